"""A mistake is charged once: to the function that makes it (the manifests' ``[dependencies]``,
``autograder.grading.dependencies``; policy in docs/grading-policy.md).

Each notebook is the reference with one mistake. A wrong ``sigmoid`` costs HW1's
``sigmoid`` question only, not also ``neural_network``, whose own code is right and
calls it; a wrong ``forward`` costs HW2's ``forward`` only, not ``backward`` and
``train`` too. A mistake in the caller itself still costs the caller, and its feedback
says a correct dependency did not help. Graded by the TA's command, as in test_examples.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.errors import GraderDefinitionError
from autograder.grading.manifest import parse_manifest

REPO = Path(__file__).resolve().parents[3]
HW1 = (REPO / "solutions" / "hw1" / "reference.py").read_text()
HW2 = (REPO / "solutions" / "hw2" / "reference.py").read_text()
SIGMOID = "s = np.exp(-np.logaddexp(0.0, -np.asarray(x, dtype=np.float64)))"
WRONG_SIGN = "s = 1.0 / (1.0 + np.exp(np.asarray(x, dtype=np.float64)))"
BIAS_LAST = "a1 = np.concatenate([x, [[1]]], 0)"
BIAS_FIRST = "a1 = np.concatenate([[[1]], x], 0)"
HW2_FORWARD = '    return {"a1": a1, "z2": z2, "a2": a2, "z3": z3, "a3": sigmoid(z3)}'
HW2_WRONG_FORWARD = '    return {"a1": a1, "z2": z2, "a2": a2, "z3": z3, "a3": sigmoid(-z3)}'
HW2_BACKWARD = "    d3 = (cache[\"a3\"] - Y) / m"
HW2_WRONG_BACKWARD = "    d3 = (cache[\"a3\"] - Y) / (2 * m)"


def mutated(source: str, old: str, new: str) -> str:
    assert source.count(old) >= 1, old
    return source.replace(old, new)


NOTEBOOKS = {
    "hw1": {
        "sigmoid_sign": mutated(HW1, SIGMOID, WRONG_SIGN),
        "bias_first": mutated(HW1, BIAS_LAST, BIAS_FIRST),
        "both": mutated(mutated(HW1, SIGMOID, WRONG_SIGN), BIAS_LAST, BIAS_FIRST),
    },
    "hw2": {
        "forward_sign": mutated(HW2, HW2_FORWARD, HW2_WRONG_FORWARD),
        "backward_half": mutated(HW2, HW2_BACKWARD, HW2_WRONG_BACKWARD),
    },
}


def grade(tmp_path: Path, assignment: str) -> tuple[dict[str, dict[str, float]], Path]:
    source = tmp_path / "in"
    source.mkdir()
    for name, code in NOTEBOOKS[assignment].items():
        cells = [nbformat.v4.new_code_cell(code)]
        nbformat.write(nbformat.v4.new_notebook(cells=cells), source / f"{name}.ipynb")
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "autograder", "grade", assignment, str(source),
                          "--out", str(out), "--seed", "474", "--quiet"],
                         capture_output=True, text=True, timeout=900, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    with (out / "gradebook.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    skip = {"student_id", "status", "score", "max_score", "submitted_at", "late_days"}
    return {row["student_id"]: {k: float(v) for k, v in row.items() if k not in skip}
            for row in rows}, out


def feedback(out: Path, student: str, question: str) -> str:
    record = json.loads(next(out.rglob(f"{student}/results.json")).read_text())
    return " ".join(t["output"] for t in record["tests"] if t["tags"] == [question])


@pytest.fixture(scope="module")
def hw1(tmp_path_factory):
    return grade(tmp_path_factory.mktemp("hw1"), "hw1")


@pytest.fixture(scope="module")
def hw2(tmp_path_factory):
    return grade(tmp_path_factory.mktemp("hw2"), "hw2")


def test_hw1_a_wrong_sigmoid_is_charged_to_sigmoid_only(hw1):
    points, _ = hw1
    assert points["sigmoid_sign"]["sigmoid"] < 10
    assert points["sigmoid_sign"]["neural_network"] == 25
    assert {q: p for q, p in points["sigmoid_sign"].items() if q != "sigmoid"} == {
        "perceptron": 15, "neural_network": 25, "mean_squared_error": 10,
        "sigmoid_cross_entropy": 15, "softmax": 10, "softmax_cross_entropy": 15}


def test_hw1_a_mistake_of_the_caller_itself_still_costs_it_and_says_so(hw1):
    points, out = hw1
    assert points["bias_first"]["sigmoid"] == 10
    assert points["bias_first"]["neural_network"] < 25
    assert points["both"]["neural_network"] == points["bias_first"]["neural_network"]
    assert "also with a correct `sigmoid`" in feedback(out, "bias_first", "neural_network")


def test_hw2_a_wrong_forward_is_charged_to_forward_only(hw2):
    points, _ = hw2
    assert points["forward_sign"]["forward"] < 10
    assert points["forward_sign"]["backward"] == 30
    assert points["forward_sign"]["train"] == 20


def test_hw2_a_wrong_backward_does_not_cost_train(hw2):
    points, _ = hw2
    assert points["backward_half"]["backward"] < 30
    assert points["backward_half"]["train"] == 20


@pytest.mark.parametrize("table, message", [
    ({"f": "g"}, "non-empty list"), ({"f": []}, "non-empty list"), ({"f": ["f"]}, "non-empty"),
    ({"f": ["nope"]}, "`nope` is not one of reference_names"), ([1], "a table")])
def test_bad_dependencies_name_the_key(table, message):
    raw = {"questions": {"q": 1}, "reference_names": ["f", "g"], "dependencies": table}
    with pytest.raises(GraderDefinitionError, match=message):
        parse_manifest(raw, "assignment.toml")


def test_the_manifests_state_the_dependencies():
    from autograder.grading.catalog import Assignment

    assert Assignment.find("hw1").dependencies == {"neural_network": ("sigmoid",),
                                                   "predict": ("neural_network",)}
    assert Assignment.find("hw2").dependencies == {"backward": ("forward",),
                                                   "train": ("backward", "sgd_step")}
