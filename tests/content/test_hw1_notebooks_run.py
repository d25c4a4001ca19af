"""HW1 notebooks execute top to bottom in a real Jupyter kernel (nbclient)."""

from __future__ import annotations

import re

import pytest
from hw1_helpers import DIGITS, MASTER, QUESTIONS, code_cells, errors, text_of

CHECK_RE = re.compile(r'grader\.check\("(\w+)"\)')


def check_cells(nb) -> dict:
    return {
        m.group(1): cell
        for cell in code_cells(nb)
        for m in [CHECK_RE.fullmatch(cell.source.strip())]
        if m
    }


def stated_accuracy(nb) -> str:
    """The held-out accuracy the notebook text promises, e.g. '97.5%'."""
    for cell in nb.cells:
        m = re.search(r"accuracy of \*\*(\d+(?:\.\d)?%)\*\*", cell.source)
        if cell.cell_type == "markdown" and m:
            return m.group(1)
    raise AssertionError("the notebook does not state the digits accuracy")


@pytest.fixture(scope="module")
def solved(built, execute_notebook):
    """Otter's autograder view of the master (solutions + init and check cells), executed."""
    return execute_notebook(built.autograder_nb, files=[DIGITS])


@pytest.fixture(scope="module")
def skeleton(execute_notebook):
    """The committed student notebook, untouched, executed."""
    from hw1_helpers import STUDENT_NB

    return execute_notebook(STUDENT_NB, files=[DIGITS])


def test_master_runs_without_errors(execute_notebook):
    """The master itself (raw Otter cells skipped, tests called inline) runs with no error."""
    nb = execute_notebook(MASTER, files=[DIGITS])
    failing = [(c.source[:60], text_of(c)[-300:]) for c in code_cells(nb) if errors(c)]
    assert not failing


def test_solved_notebook_has_no_errors(solved):
    """With the solutions in place no cell raises."""
    failing = [(c.source[:60], text_of(c)[-300:]) for c in code_cells(solved) if errors(c)]
    assert not failing


@pytest.mark.parametrize("qid", list(QUESTIONS), ids=list(QUESTIONS))
def test_solved_notebook_passes_every_public_check(solved, qid):
    """grader.check(qid) reports that all public test cases passed."""
    cell = check_cells(solved)[qid]
    assert "All test cases passed!" in text_of(cell), text_of(cell)


def test_solved_notebook_classifies_the_real_digits(solved):
    """The digits section prints the accuracy the notebook text states and shows the images."""
    accuracy = stated_accuracy(solved)
    outputs = "".join(text_of(c) for c in code_cells(solved))
    assert f"accuracy on 200 held-out digits: {accuracy}" in outputs
    images = [
        o
        for c in code_cells(solved)
        for o in c.outputs
        if o.output_type == "display_data" and "image/png" in o.get("data", {})
    ]
    assert len(images) == 1


def test_skeleton_runs_with_only_not_implemented_failures(skeleton):
    """The untouched skeleton runs top to bottom: any error is a NotImplementedError."""
    bad = [
        (c.source[:60], e.ename, e.evalue)
        for c in code_cells(skeleton)
        for e in errors(c)
        if e.ename != "NotImplementedError"
    ]
    assert not bad


@pytest.mark.parametrize("qid", list(QUESTIONS), ids=list(QUESTIONS))
def test_skeleton_checks_report_not_implemented(skeleton, qid):
    """Each grader.check of the skeleton runs and fails with NotImplementedError, not a crash."""
    cell = check_cells(skeleton)[qid]
    text = text_of(cell)
    assert not errors(cell)
    assert "Test case failed" in text and "NotImplementedError" in text


def test_skeleton_digits_section_is_friendly(skeleton):
    """Before neural_network/predict exist the digits section explains instead of crashing."""
    outputs = "".join(text_of(c) for c in code_cells(skeleton))
    assert "images (200, 784) w1 (15, 785) w2 (10, 16)" in outputs
    assert "not implemented yet" in outputs
