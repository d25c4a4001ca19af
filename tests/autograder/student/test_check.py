"""``python -m autograder check NOTEBOOK``: the student's public checks, outside Jupyter.

Each run is a subprocess (the notebook runs in that process, never in this one). Exit 0
when every public check passes, 1 when some fails, 2 (one line) when the input is not a
notebook with public checks.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "solutions" / "hw1" / "examples"
SKELETON = REPO / "assignments" / "hw1" / "hw1.ipynb"
REFERENCE = REPO / "solutions" / "hw1" / "reference.py"


def check(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """The cold path (the warm one is tested in test_check_warm): no check server starts."""
    return subprocess.run([sys.executable, "-m", "autograder", "check", *map(str, args)],
                          capture_output=True, text=True, timeout=120, cwd=REPO, check=False,
                          env={**os.environ, "AUTOGRADER_CHECK_WARM": "0"})


def verdicts(stdout: str) -> dict[str, str]:
    return {line.split()[1]: line.split()[0] for line in stdout.splitlines()
            if line.startswith(("PASSED  ", "FAILED  "))}


def test_a_partly_wrong_notebook_fails_some_checks():
    """Per question PASSED/FAILED with otter's output for failures; exit 1; hidden tests named."""
    run = check(EXAMPLES / "2023002" / "homework1_final.ipynb")
    assert run.returncode == 1, run.stderr
    assert verdicts(run.stdout) == {
        "perceptron": "PASSED", "sigmoid": "PASSED", "neural_network": "FAILED",
        "mean_squared_error": "FAILED", "sigmoid_cross_entropy": "PASSED", "softmax": "FAILED",
        "softmax_cross_entropy": "PASSED"}
    assert "4 of 7 questions pass their public checks." in run.stdout
    assert "hidden tests" in run.stdout


def test_the_skeleton_filled_with_the_reference_passes_every_check(tmp_path):
    """The student notebook plus the reference solution (a last cell) passes: exit 0."""
    notebook = nbformat.read(SKELETON, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(REFERENCE.read_text()))
    path = tmp_path / "hw1.ipynb"
    nbformat.write(notebook, path)
    run = check(path, "--assignment", "hw1")
    assert run.returncode == 0, run.stdout + run.stderr
    assert set(verdicts(run.stdout).values()) == {"PASSED"} and len(verdicts(run.stdout)) == 7


@pytest.mark.parametrize("content, message", [
    ("print('not a notebook')\n", "not valid JSON"),
    (nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])),
     "no public checks"),
], ids=["not-json", "no-public-checks"])
def test_bad_input_is_one_line_and_exit_2(tmp_path, content, message):
    path = tmp_path / "homework.ipynb"
    path.write_text(content)
    run = check(path)
    assert run.returncode == 2
    assert len(run.stdout.strip().splitlines()) == 1 and message in run.stdout


def _pasted(tmp_path: Path, *first_cells: str) -> Path:
    """The reference pasted into a fresh notebook (no otter metadata), after ``first_cells``."""
    cells = [nbformat.v4.new_code_cell(c) for c in (*first_cells, REFERENCE.read_text())]
    path = tmp_path / "Copy of hw1 (1).ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    return path


def test_a_notebook_without_otter_metadata_uses_the_assignments_public_checks(tmp_path):
    """Code pasted into a fresh (Colab) notebook: --assignment names the public checks."""
    path = _pasted(tmp_path, "from google.colab import drive\ndrive.mount('/content/drive')",
                   "%matplotlib inline\nimport numpy as np\nimport h5py")
    run = check(path, "--assignment", "hw1")
    assert run.returncode == 0, run.stdout + run.stderr
    assert set(verdicts(run.stdout).values()) == {"PASSED"} and len(verdicts(run.stdout)) == 7
    assert "used the public checks of hw1" in run.stdout
    assert "module `h5py` is not installed" in run.stdout  # the same notes as grading


def test_a_notebook_without_otter_metadata_is_recognised_by_its_functions(tmp_path):
    run = check(_pasted(tmp_path))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "it defines hw1's functions" in run.stdout and len(verdicts(run.stdout)) == 7


def test_cell_timeout_interrupts_cells_and_checks_that_run_longer(tmp_path):
    """``--cell-timeout``: a cell that sleeps past it is interrupted, and so is a public
    check of a function that does; the message names the limit given."""
    slow = ("import time\n_sigmoid = sigmoid\n"
            "def sigmoid(z):\n    time.sleep(60)\n    return _sigmoid(z)\n")
    path = _pasted(tmp_path)
    notebook = nbformat.read(path, as_version=4)
    notebook.cells += [nbformat.v4.new_code_cell("import time\ntime.sleep(60)" if k == 0 else slow)
                       for k in range(2)]
    nbformat.write(notebook, path)
    run = check(path, "--assignment", "hw1", "--cell-timeout", "5")  # room for a loaded machine
    assert run.returncode == 1, run.stdout + run.stderr
    assert verdicts(run.stdout)["sigmoid"] == "FAILED"
    assert "the check of sigmoid did not finish in 5 s" in run.stdout
    assert "cell 2" in run.stdout and "interrupt" in run.stdout.lower(), run.stdout


@pytest.mark.parametrize("value", ["0", "-1", "121", "soon"])
def test_cell_timeout_must_be_a_sensible_number_of_seconds(value):
    run = check(EXAMPLES / "2023001.ipynb", "--cell-timeout", value)
    assert run.returncode == 2 and "--cell-timeout" in run.stderr and "seconds" in run.stderr
