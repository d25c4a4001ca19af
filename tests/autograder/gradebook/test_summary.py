"""The summary ``grade`` prints fits 80 columns with every id and status whole."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from autograder.gradebook.results import SubmissionResult, TestOutcome
from autograder.gradebook.summary import print_summary

QUESTIONS = {"perceptron": 15.0, "sigmoid": 10.0, "neural_network": 25.0,
             "mean_squared_error": 10.0, "sigmoid_cross_entropy": 15.0, "softmax": 10.0,
             "softmax_cross_entropy": 15.0}


def results(ids: list[str]) -> list[SubmissionResult]:
    statuses = ["graded", "timeout", "invalid", "missing", "error"]
    return [SubmissionResult(student_id=student, status=statuses[i % 5], max_score=100.0,
                             questions=QUESTIONS, seconds=float(i),
                             tests=(TestOutcome("t", "sigmoid", 10, i % 2 == 0),),
                             message="" if i % 5 == 0 else "something went wrong " * 6)
            for i, student in enumerate(ids)]


def printed(ids: list[str], width: int = 80) -> list[str]:
    console = Console(file=io.StringIO(), width=width, color_system=None)
    report = Path("/srv/grading/hw1/report/index.html")
    print_summary(console, results(ids), header=["run 1: ..."], report=report,
                  counts_tail="; seed 474; 1.0 s")
    return console.file.getvalue().splitlines()


def test_ids_and_statuses_are_whole_at_80_columns():
    ids = ["2023000001", "2023000002", "HW1_Perceptrons_kimminjun", "s3", "leejiwon_2023"]
    lines = printed(ids)
    assert all(len(line) <= 80 for line in lines)
    rows = {line.split()[0]: line for line in lines if line.split() and line.split()[0] in ids}
    assert set(rows) == set(ids)
    assert rows["HW1_Perceptrons_kimminjun"].split()[1] == "invalid"
    assert rows["s3"].split()[1] == "missing" and rows["2023000002"].split()[1] == "timeout"
    assert "…" not in "\n".join(lines)
    assert "1 graded, 1 invalid, 1 timeout, 1 error, 1 missing; seed 474; 1.0 s" in lines
    assert lines[-1] == "report: /srv/grading/hw1/report/index.html"


def test_question_columns_are_dropped_before_anything_is_cut():
    wide = printed(["2023001"], width=120)
    narrow = printed(["a_very_long_blackboard_username_2023001"], width=60)
    assert "Q7" in wide[0] and "Q7" not in narrow[0]
    assert any(line.startswith("a_very_long_blackboard_username_2023001 ") for line in narrow)
    assert any("more in gradebook.csv and the report" in line for line in narrow)
    assert all(len(line) <= 60 for line in narrow)
