"""Correct HW2 solutions in students' styles score 100/100 through the TA's ``grade`` command."""

from __future__ import annotations

import csv
import subprocess
import sys

import pytest
from hw2_styles import styles, write


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    source, out = tmp_path_factory.mktemp("styles"), tmp_path_factory.mktemp("out")
    write(source)
    run = subprocess.run([sys.executable, "-m", "autograder", "grade", "hw2", str(source),
                          "--out", str(out), "--seed", "474", "--quiet"],
                         capture_output=True, text=True, timeout=900, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    return out


@pytest.mark.parametrize("style", sorted(styles()))
def test_a_correct_solution_in_this_style_scores_full_marks(graded, style):
    text = (graded / "gradebook.csv").read_text()
    rows = {row["student_id"]: row for row in csv.DictReader(text.splitlines())}
    assert (rows[style]["status"], rows[style]["score"]) == ("graded", "100")
