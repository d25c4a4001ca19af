"""A graded folder made without grading: submissions, a gradebook, student files and the report.

Students: ``copy_a``/``copy_b`` hand in one distinctive network (renamed and
reformatted by b) whose comments and exception text carry HTML and script;
``honest`` writes its own; ``slow`` timed out, ``broken`` is invalid,
``unlucky`` hit a grading error, ``absent`` is missing; ``김민준`` (no notebook
kept) tests a non-ASCII id in links; ``copy_b`` was two days late.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from autograder.batch.run import export
from autograder.gradebook.results import SubmissionResult, TestOutcome
from autograder.gradebook.store import DB_NAME, Gradebook
from autograder.grading.catalog import Assignment
from autograder.report import write_report

REPO = Path(__file__).resolve().parents[3]
SKELETON = REPO / "assignments" / "hw1" / "hw1.ipynb"
HOSTILE = "<img src=x onerror=alert(1)> </script><script>alert(2)</script>"
COPIED = '''def neural_network(x, w1, w2):
    # """ {hostile} """
    hidden_layer = np.vstack([x, [[1.0]]])
    hidden_layer = 1.0 / (1.0 + np.exp(-(w1 @ hidden_layer)))
    hidden_layer = np.concatenate([hidden_layer, np.ones((1, 1))], axis=0)
    output = w2 @ hidden_layer
    output = 1.0 / (1.0 + np.exp(-output))
    assert output.shape[1] == 1, "{hostile}"
    return output
'''
RENAMED = '''def neural_network(inp, first, second):
    # my own work {hostile}
    h = np.vstack([inp, [[1.0]]])
    h = 1.0/(1.0+np.exp(-(first@h)))
    h = np.concatenate([h, np.ones((1, 1))], axis=0)
    out = second@h
    out = 1.0/(1.0+np.exp(-out))
    assert out.shape[1] == 1, "{hostile}"
    return out
'''
OWN = '''def neural_network(x, w1, w2):
    a = w1[:, :-1] @ x + w1[:, -1:]
    a = np.tanh(a / 2) / 2 + 0.5
    z = w2[:, :-1] @ a + w2[:, -1:]
    return np.tanh(z / 2) / 2 + 0.5
'''
SLOW = '''def neural_network(x, w1, w2):
    while True:
        pass
'''
QUESTIONS = Assignment.find("hw1").questions


def notebook(answer: str) -> nbformat.NotebookNode:
    nb = nbformat.read(SKELETON, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.startswith("def neural_network("):
            cell.source = answer.format(hostile=HOSTILE)
    return nb


def result(student: str, status: str, tests: tuple[TestOutcome, ...] = (),
           message: str = "", **extra: object) -> SubmissionResult:
    return SubmissionResult(student_id=student, status=status, max_score=100.0,
                            questions=QUESTIONS, tests=tests, message=message, seed=1,
                            extra=dict(extra))


def tests_for(passed: bool, feedback: str = "") -> tuple[TestOutcome, ...]:
    return (TestOutcome("`neural_network` appends the bias last", "neural_network", 20, passed,
                        "" if passed else feedback),
            TestOutcome("`sigmoid` of a scalar", "sigmoid", 10, True),
            TestOutcome("`softmax` is finite", "softmax", 10, False, "`softmax` returned nan"))


def build_site(root: Path) -> tuple[Path, Path]:
    """Write submissions and a graded OUT folder under ``root``; return (out, report index)."""
    source, out = root / "submissions", root / "out"
    source.mkdir(parents=True)
    out.mkdir()
    nbformat.write(notebook(COPIED), source / "copy_a.ipynb")
    nbformat.write(notebook(RENAMED), source / "copy_b.ipynb")
    nbformat.write(notebook(OWN), source / "honest.ipynb")
    nbformat.write(notebook(SLOW), source / "slow.ipynb")
    (source / "broken.ipynb").write_text('{"cells": [')
    (source / "unlucky.ipynb").write_bytes(SKELETON.read_bytes())
    hostile_failure = f"`neural_network` raised AssertionError: {HOSTILE} *star* w0 + w1*x1"
    results = [
        result("copy_a", "graded", tests_for(False, hostile_failure), restarts=1),
        result("copy_b", "graded", tests_for(True), late_days=2,
               submitted_at="2026-10-03T09:00:00+09:00"),
        result("김민준", "graded", tests_for(True), late_days=0),
        result("honest", "graded", tests_for(True)),
        result("slow", "timeout", tests_for(False, "not run: the notebook ran out of time"),
               message="the notebook used up its 120 s"),
        result("broken", "invalid", message="the file is not valid JSON (line 1: Expecting "
                                            "value)"),
        result("unlucky", "error", message=f"grader crashed: {HOSTILE}"),
        result("absent", "missing", message="no notebook found"),
    ]
    with Gradebook.open(out / DB_NAME) as book:
        run = book.start_run("hw1", 1, "v1", "bubblewrap", ["test"])
        for r in results:
            book.add_result(run, r, "0" * 64)
        book.finish_run(run)
        export(book, Assignment.find("hw1"), out)
    return out, write_report("hw1", out, source)
