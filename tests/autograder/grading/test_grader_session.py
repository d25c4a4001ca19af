"""One pytest session of the hidden graders grades every submission of a grading process.

What must hold although the session is shared: each submission's outcomes are its own (the
same notebook scores the same whether graded first, after another one, or alone in a fresh
process), fixtures of every scope are set up again per submission, and a broken grader
file gives every submission an ``error`` record with the reason instead of a crash.
Grading runs in a fresh interpreter (``grade_in_process.py``), never in this pytest session.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
RIGHT = ("def perceptron(x1, x2, w):\n"
         "    return 1 if w[0] + w[1] * x1 + w[2] * x2 >= 0 else 0\n")
WRONG = "def perceptron(x1, x2, w):\n    return 0\n"


def notebook(path: Path, source: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source)]
    nbformat.write(nb, path)
    return path


def assignment_root(tmp_path: Path, graders: str, questions: str) -> Path:
    """A project root with one assignment, hw1, graded by ``graders``."""
    home = tmp_path / "root" / "solutions" / "hw1"
    home.mkdir(parents=True)
    (tmp_path / "root" / "assignments" / "hw1").mkdir(parents=True)
    (home / "assignment.toml").write_text(f"[questions]\n{questions}\n")
    (home / "graders.py").write_text(graders)
    (home / "reference.py").write_text("SECRET = 1\n")
    return tmp_path / "root"


def grade_in_one_process(tmp_path: Path, notebooks: list[Path], seed: int = 11,
                         root: Path | None = None) -> dict:
    spec = tmp_path / f"spec-{len(list(tmp_path.glob('spec-*')))}.json"
    spec.write_text(json.dumps({"root": str(root) if root else None,
                                "notebooks": [str(p) for p in notebooks], "seed": seed}))
    done = subprocess.run([sys.executable, str(HERE / "grade_in_process.py"), str(spec)],
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def outcomes(record: dict) -> list[tuple[str, bool, str]]:
    return [(t["name"], t["passed"], t["feedback"]) for t in record["tests"]]


def test_submissions_share_the_session_not_their_outcomes(tmp_path: Path) -> None:
    right = notebook(tmp_path / "right.ipynb", RIGHT)
    wrong = notebook(tmp_path / "wrong.ipynb", WRONG)
    run = grade_in_one_process(tmp_path, [right, wrong, right])
    first, middle, last = run["results"]
    assert [r["status"] for r in run["results"]] == ["graded"] * 3
    assert len({tuple(s) for s in run["sessions"]}) == 1 and len(run["sessions"][0]) == 1
    assert outcomes(first) == outcomes(last)
    assert sum(t["passed"] for t in first["tests"]) > sum(t["passed"] for t in middle["tests"])
    alone = grade_in_one_process(tmp_path, [wrong])["results"][0]
    assert outcomes(alone) == outcomes(middle)
    assert "FAILED" in middle["extra"]["pytest_log"]  # the TA log has the failures' tracebacks


GRADER_WITH_SCOPES = '''
import pytest

QUESTIONS = {"perceptron": 2}
SETUPS = {"module": 0, "session": 0}


@pytest.fixture(scope="module")
def module_list():
    SETUPS["module"] += 1
    return []


@pytest.fixture(scope="session")
def session_list():
    SETUPS["session"] += 1
    return []


@pytest.mark.question("perceptron", points=1)
def test_module_fixture_is_fresh(student, module_list, session_list):
    """fixtures of wider scopes are new for every submission"""
    module_list.append(student)
    session_list.append(student)
    assert module_list == [student] and session_list == [student]


@pytest.mark.question("perceptron", points=1)
def test_counts(student, module_list, session_list):
    """one set-up per scope per submission"""
    assert student.call("perceptron", 1, 1, (1.0, 1.0, 1.0)) in (0, 1)
    assert len(module_list) == 1 and len(session_list) == 1
'''


def test_fixtures_of_every_scope_are_set_up_per_submission(tmp_path: Path) -> None:
    root = assignment_root(tmp_path, GRADER_WITH_SCOPES, "perceptron = 2")
    subs = [notebook(tmp_path / f"s{i}.ipynb", RIGHT) for i in range(3)]
    run = grade_in_one_process(tmp_path, subs, root=root)
    for record in run["results"]:
        assert record["status"] == "graded", record["message"]
        assert [t["passed"] for t in record["tests"]] == [True, True], record["extra"]


BROKEN_COLLECTION = '''
import pytest

QUESTIONS = {"perceptron": 1}


@pytest.mark.question("perceptron", points=1)
@pytest.mark.parametrize("not_an_argument", [1])
def test_perceptron(student):
    """never collected"""
'''


def test_a_grader_that_cannot_be_collected_is_an_error_per_submission(tmp_path: Path) -> None:
    root = assignment_root(tmp_path, BROKEN_COLLECTION, "perceptron = 1")
    subs = [notebook(tmp_path / f"s{i}.ipynb", RIGHT) for i in range(2)]
    run = grade_in_one_process(tmp_path, subs, root=root)
    for record in run["results"]:
        assert record["status"] == "error"
        assert "hidden graders are broken" in record["message"]
        assert "not_an_argument" in record["message"]
        assert record["tests"] == []
