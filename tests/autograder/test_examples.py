"""End to end: the TA's command on the bundled examples, the reference and the skeleton."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "solutions" / "hw1" / "examples"
COLUMNS = ["student_id", "status", "score", "max_score", "perceptron", "sigmoid",
           "neural_network", "mean_squared_error", "sigmoid_cross_entropy", "softmax",
           "softmax_cross_entropy", "submitted_at", "late_days"]
QUESTIONS = COLUMNS[4:-2]
DEADLINE = "2026-09-23T23:59+09:00"
EXTENSIONS = REPO / "solutions" / "hw1" / "extensions.csv"
# student -> (status, points per question in QUESTIONS order); see make_examples.py for why
EXPECTED = {
    "2023001": ("graded", [15, 10, 25, 10, 15, 10, 15]),  # correct, written differently
    "2023002": ("graded", [15, 10, 4, 2, 15, 7, 15]),  # bias first, MSE mean, naive softmax
    "2023003": ("graded", [13, 2, 25, 10, 2, 10, 15]),  # Blackboard: > not >=, list sigmoid
    # (the list sigmoid is charged to `sigmoid` only: `neural_network` is right given a
    # correct one, docs/grading-policy.md)
    "2023004": ("graded", [0, 0, 0, 0, 0, 0, 0]),  # untouched skeleton
    "2023005": ("invalid", [0, 0, 0, 0, 0, 0, 0]),  # truncated JSON
    "2023006": ("graded", [15, 10, 25, 10, 15, 10, 0]),  # nbformat v3, last function missing
    "kim_mj": ("graded", [15, 10, 25, 10, 15, 10, 15]),  # Blackboard: otter export zip
    "lee_sy_2": ("graded", [15, 10, 25, 10, 15, 10, 0]),  # Blackboard: UK date, extension
    "reference": ("graded", [15, 10, 25, 10, 15, 10, 15]),
    "skeleton": ("graded", [0, 0, 0, 0, 0, 0, 0]),
}


def grade(source: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "autograder", "grade", "hw1", str(source),
                           "--out", str(out), "--seed", "474", *extra],
                          capture_output=True, text=True, timeout=600, check=False)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The examples plus the reference (as a notebook) and the skeleton, graded in one run."""
    source = tmp_path_factory.mktemp("submissions")
    subprocess.run(["cp", "-r", *[str(p) for p in EXAMPLES.iterdir()], str(source)], check=True)
    reference = (REPO / "solutions" / "hw1" / "reference.py").read_text()
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(reference)]),
                   source / "reference.ipynb")
    (source / "skeleton.ipynb").write_bytes((REPO / "assignments/hw1/hw1.ipynb").read_bytes())
    out = tmp_path_factory.mktemp("out")
    run = grade(source, out, "--deadline", DEADLINE, "--extensions", str(EXTENSIONS))
    return run, out


def test_command_succeeds_with_a_summary(graded):
    run, out = graded
    assert run.returncode == 0, run.stdout + run.stderr
    assert "9 graded, 1 invalid; seed 474" in run.stdout
    assert run.stdout.splitlines()[-1] == f"report: {out / 'report' / 'index.html'}"
    assert (out / "report" / "index.html").is_file()


def test_gradebook_has_the_expected_points_per_question(graded):
    _, out = graded
    rows = list(csv.reader((out / "gradebook.csv").read_text().splitlines()))
    assert rows[0] == COLUMNS
    got = {row[0]: (row[1], [int(v) for v in row[4:-2]]) for row in rows[1:]}
    assert got == EXPECTED
    assert all(int(row[2]) == sum(int(v) for v in row[4:-2]) and row[3] == "100"
               for row in rows[1:])


def test_gradebook_has_submission_times_and_late_days(graded):
    _, out = graded
    with (out / "gradebook.csv").open(newline="") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert rows["2023003"]["submitted_at"] == "2026-09-22T23:58:40+09:00"
    late = {student: row["late_days"] for student, row in rows.items()}
    assert late == {"2023003": "0", "kim_mj": "2", "lee_sy_2": "0",  # lee: extension
                    **{s: "" for s in EXPECTED if s not in ("2023003", "kim_mj", "lee_sy_2")}}


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_results_json_is_gradescope_format_and_matches_gradebook(graded, student):
    _, out = graded
    data = json.loads((out / student / "results.json").read_text())
    status, points = EXPECTED[student]
    assert data["score"] == sum(points) and data["max_score"] == 100
    assert data["extra_data"]["status"] == status and data["extra_data"]["seed"] == 474
    for test in data["tests"]:
        assert set(test) >= {"name", "score", "max_score", "status", "output", "visibility", "tags"}
        assert test["tags"][0] in QUESTIONS
        assert test["score"] in (0, test["max_score"])
        assert test["name_format"] == test["output_format"] == "md"
    assert data["execution_time"] >= 0
    per_question = {q: sum(t["score"] for t in data["tests"] if t["tags"] == [q]) for q in QUESTIONS}
    assert list(per_question.values()) == points


def test_invalid_notebook_says_why(graded):
    _, out = graded
    data = json.loads((out / "2023005" / "results.json").read_text())
    assert data["tests"] == [] and "not valid JSON" in data["output"]


def test_blackboard_latest_attempt_graded_and_earlier_listed(graded):
    _, out = graded
    data = json.loads((out / "2023003" / "results.json").read_text())
    assert data["extra_data"]["source"].endswith("2026-09-22-23-58-40_hw1.ipynb")
    assert "earlier Blackboard attempts not graded: 2026-09-20-21-05-11" in data["output"]
    assert "attempt 2026-09-24-09-10-00 not graded: it holds no notebook" in data["output"]
    assert "I worked with 2023101 on the XOR part." in data["output"]
    assert "accuracy on" not in data["output"]  # student output is not feedback
    assert "`!pip install torch` was skipped" in data["output"]  # a deliberate difference, named
    assert "NameError" in data["output"]  # the failing cell is named


def test_v3_notebook_is_upgraded(graded):
    _, out = graded
    data = json.loads((out / "2023006" / "results.json").read_text())
    assert "upgraded to v4" in data["output"]
    missing = [t for t in data["tests"] if t["tags"] == ["softmax_cross_entropy"]]
    assert missing and all("`softmax_cross_entropy` is not defined" in t["output"] for t in missing)


def test_feedback_never_contains_the_reference_source(graded):
    _, out = graded
    secret = "np.logaddexp"  # used by the reference sigmoid only
    for path in out.rglob("*"):
        if path.relative_to(out).parts[0] == "report":
            continue  # the TA's report shows submitted code ("reference" submits the reference)
        if path.is_file() and path.suffix in (".json", ".csv", ".md", ".html"):
            assert secret not in path.read_text(), path


def test_unknown_assignment_is_a_clear_error(tmp_path):
    run = subprocess.run([sys.executable, "-m", "autograder", "grade", "hw99", str(EXAMPLES),
                          "--out", str(tmp_path)], capture_output=True, text=True, check=False)
    assert run.returncode == 2 and "no assignment 'hw99'" in run.stdout
