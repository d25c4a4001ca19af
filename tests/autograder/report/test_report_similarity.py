"""Similarity: renaming and layout change nothing, the skeleton and class-wide code count for
nothing, questions are found through otter's structure, and broken notebooks are skipped."""

from __future__ import annotations

import json

import nbformat
from report_site import COPIED, OWN, QUESTIONS, RENAMED, SKELETON, notebook

from autograder.report.similarity import (
    Skeleton,
    cells_of,
    fingerprint,
    similar_pairs,
    student_code,
)

SKELETON_CODE = Skeleton.from_notebook(SKELETON, QUESTIONS)


def codes_of(answers: dict[str, str], tmp_path) -> dict:
    codes = {}
    for student, answer in answers.items():
        path = tmp_path / f"{student}.ipynb"
        nbformat.write(notebook(answer), path)
        codes[student] = student_code(SKELETON_CODE, cells_of(path))
    return codes


def test_renaming_and_reformatting_keep_the_fingerprints():
    a, b = COPIED.format(hostile="x"), RENAMED.format(hostile="y")
    assert fingerprint(a).keys() == fingerprint(b).keys()
    assert fingerprint(a).keys() != fingerprint(OWN).keys()


def test_the_skeleton_maps_questions_to_the_names_its_answer_cells_define():
    assert SKELETON_CODE.names["neural_network"] == {"neural_network", "predict"}
    assert SKELETON_CODE.names["perceptron"] == {"perceptron", "AND_WEIGHTS", "OR_WEIGHTS", "xor"}
    assert set(SKELETON_CODE.names) == set(QUESTIONS)


def test_copied_pair_is_found_and_an_untouched_skeleton_is_like_nobody(tmp_path):
    codes = codes_of({"a": COPIED, "b": RENAMED, "c": OWN, "d": "{hostile}",
                      "e": 'def neural_network(x, w1, w2):\n    """..."""\n    # YOUR CODE HERE\n'
                           "    raise NotImplementedError\n"}, tmp_path)
    pairs = similar_pairs(codes, SKELETON_CODE)
    assert [(p.a, p.b) for p in pairs] == [("a", "b")]
    assert pairs[0].score == 1.0 and list(pairs[0].questions) == ["neural_network"]
    lines_a, lines_b = pairs[0].shared_lines["neural_network"]
    assert {1, 3, 9} <= lines_a and {1, 3, 9} <= lines_b


def test_code_most_of_the_class_shares_is_not_evidence(tmp_path):
    """Ten students with the same answer: nobody is flagged (the one obvious way to write it)."""
    codes = codes_of({f"s{i}": COPIED for i in range(10)} | {"own": OWN}, tmp_path)
    assert similar_pairs(codes, SKELETON_CODE) == []
    assert similar_pairs(codes, SKELETON_CODE, common_share=1.0)[0].score == 1.0


def test_cells_moved_or_merged_still_count_for_their_question(tmp_path):
    """A student who moves the answer to the end of the notebook (or removes the checks)."""
    nb = notebook(COPIED)
    answer = next(c for c in nb.cells if c.source.startswith("def neural_network("))
    nb.cells.remove(answer)
    nb.cells = [c for c in nb.cells if "grader.check" not in c.source] + [answer]
    path = tmp_path / "moved.ipynb"
    nbformat.write(nb, path)
    moved = student_code(SKELETON_CODE, cells_of(path))
    codes = codes_of({"a": COPIED, "c": OWN}, tmp_path) | {"moved": moved}
    pairs = similar_pairs(codes, SKELETON_CODE)
    assert [(p.a, p.b) for p in pairs] == [("a", "moved")] and pairs[0].score > 0.9


def test_unreadable_notebooks_and_unparsable_code_are_skipped_quietly(tmp_path):
    for name, content in {"trunc": '{"cells": [', "list": "[1, 2]", "deep": "[" * 100000,
                          "cells": json.dumps({"cells": [{"cell_type": "code", "source": 7},
                                                         "x", None]})}.items():
        path = tmp_path / f"{name}.ipynb"
        path.write_text(content)
        assert cells_of(path) == []
    bad = "def neural_network(x, w1, w2):\n    return (x +\n"  # an unclosed bracket
    assert isinstance(fingerprint(bad), dict)
    assert fingerprint("%timeit f()\n!pip install torch\nx = 1\n") == fingerprint("x = 1\n")
