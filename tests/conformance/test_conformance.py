"""Conformance: the grader runs students' notebooks as a real Jupyter kernel runs them.

Every notebook of ``conformance_notebooks.NOTEBOOKS`` runs twice:

* in one real Jupyter kernel (nbclient + ipykernel, ``allow_errors=True``, no stdin, as
  ``jupyter nbconvert --execute`` runs it), in the version ``as_graded`` writes: the
  deliberate differences of docs/jupyter-differences.md applied (shell escapes and unknown magics skipped,
  modules the grader lacks not imported, Colab calls dropped); the kernel is reset
  between notebooks;
* in the grader's sandboxed worker, as submitted.

Then, cell by cell: every cell that succeeds in Jupyter succeeds in the grader with the
same printed stdout (timings masked), so a deliberate difference never costs the
statements after it; every cell with a deliberate difference carries a note naming it;
``input()`` fails as in Jupyter, without hanging.
"""

from __future__ import annotations

import re
import time

import nbformat
import pytest
from conformance_notebooks import NOTEBOOKS, differs, graded_notebook

from autograder.grading.session import CellOutcome, StudentSession
from autograder.intake.notebook import Cell

TIMING = re.compile(r"^(CPU times|Wall time|.*per loop \(mean).*$", re.MULTILINE)
# %timeit's warning, printed only when the runs' times vary (a loaded machine)
SLOWEST = re.compile(r"^The slowest run took .*\n", re.MULTILINE)
RESET = "%reset -f\n%matplotlib inline\nimport matplotlib.pyplot as _plt\n_plt.close('all')"


def normalised(text: str) -> str:
    return TIMING.sub("<timing>", SLOWEST.sub("", text))


@pytest.fixture(scope="module")
def jupyter(tmp_path_factory) -> dict[str, list[tuple[str, str, str]]]:
    """(status, ename, stdout) of each cell of each notebook (graded version), one kernel."""
    from nbclient import NotebookClient

    folder = tmp_path_factory.mktemp("jupyter")
    client = NotebookClient(nbformat.v4.new_notebook(), timeout=60, allow_errors=True,
                            kernel_name="python3", resources={"metadata": {"path": str(folder)}})
    runs = {}
    with client.setup_kernel():
        for name, sources in NOTEBOOKS.items():
            cells = [nbformat.v4.new_code_cell(s) for s in [RESET, *graded_notebook(sources)]]
            client.nb = nbformat.v4.new_notebook(cells=cells)
            client.reset_execution_trackers()
            started = time.monotonic()
            for index, cell in enumerate(cells):
                client.execute_cell(cell, index)
            print(f"jupyter {name}: {time.monotonic() - started:.2f} s")
            runs[name] = [_jupyter_result(cell) for cell in cells[1:]]
    return runs


def _jupyter_result(cell: nbformat.NotebookNode) -> tuple[str, str, str]:
    errors = [o for o in cell.outputs if o.output_type == "error"]
    stdout = "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")
    return ("error", errors[0].ename, stdout) if errors else ("ok", "", stdout)


@pytest.fixture(scope="module")
def grader() -> dict[str, list[CellOutcome]]:
    runs = {}
    for name, sources in NOTEBOOKS.items():
        cells = tuple(Cell(index, source) for index, source in enumerate(sources))
        started = time.monotonic()
        with StudentSession(cells, []) as session:
            runs[name] = session.start()
        print(f"grader {name}: {time.monotonic() - started:.2f} s")
    return runs


@pytest.fixture(scope="module")
def figures(jupyter, grader) -> dict[str, int]:
    """The conformance figures, printed for the report (pytest -s shows them)."""
    counts = dict.fromkeys(("notebooks", "cells", "jupyter_ok", "agree_ok", "jupyter_error",
                            "agree_error", "deliberate", "deliberate_noted"), 0)
    for name, sources in NOTEBOOKS.items():
        counts["notebooks"] += 1
        for source, graded, (status, ename, stdout), outcome in zip(
                sources, graded_notebook(sources), jupyter[name], grader[name], strict=True):
            counts["cells"] += 1
            if status == "ok":
                counts["jupyter_ok"] += 1
                counts["agree_ok"] += (outcome.status == "ok"
                                       and normalised(outcome.stdout) == normalised(stdout))
            else:
                counts["jupyter_error"] += 1
                same = outcome.status == "error" and outcome.ename == ename
                counts["agree_error"] += same
                if not same:
                    print(f"error differs: {name} cell {outcome.index + 1}: Jupyter {ename}, "
                          f"grader {outcome.status} {outcome.ename} (notes: {outcome.notes})")
            if differs(source, graded):
                counts["deliberate"] += 1
                counts["deliberate_noted"] += bool(outcome.notes)
    print("\nconformance:", counts)
    return counts


def test_there_are_enough_notebooks_in_varied_styles():
    assert len(NOTEBOOKS) >= 30
    everything = "\n".join(s for sources in NOTEBOOKS.values() for s in sources)
    for habit in ("drive.mount", "%matplotlib inline\nimport", "InlineBackend.figure_format",
                  "import h5py", "plt.show()", "display(", "input(", "!pip install", "%timeit",
                  "%%capture", "한국어", "1 / 0", "from common.functions import sigmoid",
                  "breakpoint()", "exit()", "pbar.set_postfix", "os.path.join('..', 'data')"):
        assert habit in everything, habit


@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_cells_that_succeed_in_jupyter_succeed_in_the_grader_with_the_same_stdout(
        name, jupyter, grader):
    for number, ((status, _, stdout), outcome) in enumerate(
            zip(jupyter[name], grader[name], strict=True), start=1):
        if status != "ok":
            continue
        assert outcome.status == "ok", (f"{name} cell {number}: Jupyter ran it, the grader: "
                                        f"{outcome.describe()}\n{outcome.output}")
        assert normalised(outcome.stdout) == normalised(stdout), f"{name} cell {number}"


@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_every_deliberate_difference_is_noted(name, grader):
    sources = NOTEBOOKS[name]
    for source, graded, outcome in zip(sources, graded_notebook(sources), grader[name],
                                       strict=True):
        if differs(source, graded):
            assert outcome.notes, f"{name} cell {outcome.index + 1}: no note for {source!r}"
        else:
            assert not outcome.notes, f"{name} cell {outcome.index + 1}: {outcome.notes}"


def test_input_fails_as_in_jupyter_without_hanging(jupyter, grader):
    for name in ("input", "getpass"):
        failing = [(j, g) for j, g in zip(jupyter[name], grader[name], strict=True)
                   if j[0] == "error"]
        assert failing and all(j[1] == g.ename == "StdinNotImplementedError" and
                               g.status == "error" for j, g in failing)


def test_errors_are_the_same_errors(jupyter, grader):
    """A cell that fails in Jupyter fails in the grader with the same exception (the
    Jupyter side runs the graded version, so a missing module is not an error there)."""
    for name in NOTEBOOKS:
        for (status, ename, _), outcome in zip(jupyter[name], grader[name], strict=True):
            if status == "error" and ename != "NameError":
                assert (outcome.status, outcome.ename) == ("error", ename), name


def test_figures(figures):
    assert figures["notebooks"] >= 30 and figures["agree_ok"] == figures["jupyter_ok"]
    assert figures["deliberate_noted"] == figures["deliberate"]


def test_the_notebooks_can_be_written_as_files(tmp_path):
    from conformance_notebooks import write

    paths = write(tmp_path)
    assert len(paths) == len(NOTEBOOKS)
    assert all(nbformat.read(p, as_version=4).cells for p in paths)


