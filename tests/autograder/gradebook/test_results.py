"""Result records and their exports (the gradebook CSV and Gradescope results.json)."""

from __future__ import annotations

import csv
import json

import pytest

from autograder.gradebook.results import (
    SubmissionResult,
    TestOutcome,
    write_gradebook,
    write_results_json,
)

QUESTIONS = {"q1": 10.0, "q2": 5.0}


def result(student="s1", status="graded", tests=()):
    return SubmissionResult(student_id=student, status=status, max_score=15.0,
                            questions=QUESTIONS, tests=tuple(tests), seed=7)


TESTS = (TestOutcome("shape", "q1", 4, True), TestOutcome("values", "q1", 6, False, "differs"),
         TestOutcome("type", "q2", 5, True))


def test_score_counts_only_passed_tests():
    r = result(tests=TESTS)
    assert r.score == 9 and r.question_scores() == {"q1": 4, "q2": 5}


def test_unknown_status_is_refused():
    with pytest.raises(ValueError, match="unknown status"):
        result(status="passed")


def test_gradescope_results_json(tmp_path):
    """Gradescope's required fields, the question id in tags, the message of a failure."""
    path = write_results_json(result(tests=TESTS), tmp_path)
    data = json.loads(path.read_text())
    assert path == tmp_path / "s1" / "results.json"
    assert data["score"] == 9 and data["max_score"] == 15
    assert [t["tags"] for t in data["tests"]] == [["q1"], ["q1"], ["q2"]]
    failed = data["tests"][1]
    assert failed["status"] == "failed" and failed["score"] == 0 and failed["max_score"] == 6
    assert failed["output"] == "`differs`" and failed["visibility"] == "visible"
    assert data["extra_data"]["seed"] == 7 and data["extra_data"]["status"] == "graded"


def test_gradebook_columns_rows_and_order(tmp_path):
    path = tmp_path / "gradebook.csv"
    write_gradebook([result("s2", "invalid"), result("s1", tests=TESTS)], list(QUESTIONS), path)
    rows = list(csv.reader(path.read_text().splitlines()))
    assert rows == [["student_id", "status", "score", "max_score", "q1", "q2"],
                    ["s1", "graded", "9", "15", "4", "5"],
                    ["s2", "invalid", "0", "15", "0", "0"]]
