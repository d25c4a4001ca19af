"""End to end for the second assignment: the TA's command on HW2's examples, each typical
mistake alone in an otherwise correct notebook (see solutions/hw2/make_examples.py)."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "solutions" / "hw2" / "examples"
QUESTIONS = ["sigmoid_grad", "forward", "loss", "backward", "numerical_gradient", "sgd", "train"]
FULL = [5, 10, 10, 30, 15, 10, 20]
# student -> (points per question, words the feedback of the failed tests must contain)
EXPECTED = {
    "2023001": (FULL, ""),  # correct, written differently from the reference
    "2023002": ([5, 10, 10, 0, 15, 10, 20], "dw1: expected ndarray of shape"),  # transposed
    "2023003": ([5, 0, 10, 30, 15, 10, 20], "a2: expected ndarray of shape"),  # no bias row
    "2023004": ([5, 10, 10, 30, 3, 10, 20], "not the centred difference"),  # one-sided
    "2023005": ([5, 10, 10, 30, 7, 10, 20], "put every entry back"),  # w changed in place
    "2023006": ([5, 10, 10, 30, 15, 5, 20], "modified its input `w`"),  # sgd in place
    "2023007": ([5, 10, 10, 30, 15, 10, 2], "of held-out digits correctly"),  # never improves
    "2023008": ([5, 10, 10, 30, 15, 10, 2], "did not return within 60 s"),  # far too slow
    "skeleton": ([0] * 7, "NotImplementedError"),  # the untouched student notebook
    "reference": (FULL, ""),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    source = tmp_path_factory.mktemp("submissions")
    for path in EXAMPLES.glob("*.ipynb"):
        shutil.copy(path, source)
    reference = (REPO / "solutions" / "hw2" / "reference.py").read_text()
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(reference)]),
                   source / "reference.ipynb")
    shutil.copy(REPO / "assignments" / "hw2" / "hw2.ipynb", source / "skeleton.ipynb")
    out = tmp_path_factory.mktemp("out")
    run = subprocess.run([sys.executable, "-m", "autograder", "grade", "hw2", str(source),
                          "--out", str(out), "--seed", "474", "--quiet"],
                         capture_output=True, text=True, timeout=900, check=False)
    return run, out


def test_every_example_gets_the_points_of_its_mistake(graded):
    run, out = graded
    assert run.returncode == 0, run.stdout + run.stderr
    rows = list(csv.reader((out / "gradebook.csv").read_text().splitlines()))
    assert rows[0] == ["student_id", "status", "score", "max_score", *QUESTIONS,
                       "submitted_at", "late_days"]
    got = {row[0]: [float(v) for v in row[4:4 + len(QUESTIONS)]] for row in rows[1:]}
    assert got == {student: [float(p) for p in points] for student, (points, _) in EXPECTED.items()}
    assert {row[1] for row in rows[1:]} == {"graded"}


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_feedback_names_the_mistake(graded, student):
    _, out = graded
    data = json.loads((out / student / "results.json").read_text())
    words = EXPECTED[student][1]
    failed = [t["output"] for t in data["tests"] if t["status"] == "failed"]
    if not words:
        assert failed == []
    else:
        assert failed and any(words in output for output in failed), failed


def test_feedback_shows_no_hidden_values(graded):
    """No expected value, input or reference text reaches a student-visible file."""
    _, out = graded
    for path in out.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".csv", ".md", ".html") \
                and "_ta_logs" not in path.parts:
            text = path.read_text()
            assert "np.vstack([X" not in text and "sigmoid_grad(cache" not in text, path
