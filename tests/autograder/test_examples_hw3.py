"""End to end for the third assignment: the TA's command on HW3's examples, each typical
mistake alone in an otherwise correct notebook (see solutions/hw3/make_examples.py), plus a
second correct style (Colab habits, modules, a DataLoader), the reference and the skeleton."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.grading.catalog import load_module

pytest.importorskip("torch")

REPO = Path(__file__).resolve().parents[2]
HOME = REPO / "solutions" / "hw3"
EXAMPLES = HOME / "examples"
QUESTIONS = ["conv_forward", "conv_backward", "max_pool", "conv_fast", "adam", "torch_conv",
             "cnn", "train"]
FULL = [15, 15, 10, 5, 10, 10, 10, 25]


def losing(question: str, points: float) -> list[float]:
    return [points if q == question else full for q, full in zip(QUESTIONS, FULL, strict=True)]


# student -> (points per question, words the feedback of the failed tests must contain)
EXPECTED = {
    "2023001": (FULL, ""),  # correct, written unlike the reference
    "colab": (FULL, ""),  # correct, a second style: magics, modules, DataLoader
    "reference": (FULL, ""),
    "2023002": (losing("conv_forward", 6), "cases are wrong"),  # the filter flipped
    "2023003": (losing("conv_backward", 5), "cases are wrong"),  # dw overwritten
    "2023004": (losing("max_pool", 8), "on windows with ties"),  # every tie gets dout
    "2023005": (losing("conv_fast", 0), "did not return within 0.25 s"),  # four loops
    "2023006": (losing("adam", 4), "`adam_step`: 12 of 12 cases are wrong"),  # no bias correction
    "2023007": (losing("adam", 8), "modified its input"),  # moments updated in place
    "2023008": (losing("torch_conv", 5), "no gradient reaches x, w or b"),  # through NumPy
    "kim_mj": (losing("cnn", 4), "the logits"),  # dropout on in eval()
    "lee_sy_2": (losing("train", 5), "of held-out digits correctly"),  # never trains
    "skeleton": ([0] * 8, "NotImplementedError"),  # the untouched student notebook
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    source = tmp_path_factory.mktemp("submissions")
    for path in EXAMPLES.glob("*.ipynb"):
        shutil.copy(path, source)
    nbformat.write(load_module(HOME / "make_examples.py", "hw3_make_examples").colab(),
                   source / "colab.ipynb")
    reference = (HOME / "reference.py").read_text()
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(reference)]),
                   source / "reference.ipynb")
    shutil.copy(REPO / "assignments" / "hw3" / "hw3.ipynb", source / "skeleton.ipynb")
    out = tmp_path_factory.mktemp("out")
    run = subprocess.run([sys.executable, "-m", "autograder", "grade", "hw3", str(source),
                          "--out", str(out), "--seed", "474", "--quiet"],
                         capture_output=True, text=True, timeout=1800, check=False)
    return run, out


def test_every_example_gets_the_points_of_its_mistake(graded):
    run, out = graded
    assert run.returncode == 0, run.stdout + run.stderr
    rows = list(csv.reader((out / "gradebook.csv").read_text().splitlines()))
    assert rows[0] == ["student_id", "status", "score", "max_score", *QUESTIONS,
                       "submitted_at", "late_days"]
    got = {row[0]: [float(v) for v in row[4:-2]] for row in rows[1:]}
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
    """No expected value, input or reference text reaches a student-visible file (the TA's
    logs and report, which show the submitted "reference" notebook's own code, are not)."""
    _, out = graded
    for path in out.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".csv", ".md", ".html") \
                and not {"_ta_logs", "report"} & set(path.relative_to(out).parts):
            text = path.read_text()
            assert "np.tensordot(window, w" not in text and "sliding_window_view(xp" not in text, path
