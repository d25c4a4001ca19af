"""Each student notebook stands on its own: only the .ipynb and its data, in Jupyter and on Colab.

Every assignment's committed student notebook is run in a real kernel (nbclient)
in an otherwise empty folder holding only its public data files, twice:

* **jupyter**: the notebook file next to its data, as a student who downloaded both;
* **colab**: the notebook is *not* on the runtime's disk (Colab keeps it in Drive);
  the kernel's shell is ``google.colab._shell.Shell`` (a stand-in package on the
  kernel's path), so otter-grader believes it runs on Colab, and the stand-in
  ``google.colab._message.blocking_request("get_ipynb")`` hands over the notebook's
  JSON, as Colab does.

The first cell must set up every ``grader.check``: the untouched skeleton's checks run
(and fail on the ``NotImplementedError`` stubs), and with the reference solution in
place before each check every public check passes.
"""

from __future__ import annotations

import json
import pathlib
import re
import shutil
import sys
import tomllib

import nbformat
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
ASSIGNMENTS = sorted(p.parent.name for p in (REPO / "solutions").glob("*/assignment.toml"))
CHECK = re.compile(r'grader\.check\("(\w+)"\)')

SHELL = '''
from ipykernel.zmqshell import ZMQInteractiveShell


class Shell(ZMQInteractiveShell):
    """Colab's kernel shell class is google.colab._shell.Shell: otter looks for its name."""
'''
KERNEL = '''
from ipykernel.ipkernel import IPythonKernel
from traitlets import Type

from google.colab._shell import Shell


class Kernel(IPythonKernel):
    """Colab's kernel (google.colab._kernel.Kernel) runs its own shell class."""

    shell_class = Type(Shell)
'''
MESSAGE = '''
import json, os


def blocking_request(request_type, request="", timeout_sec=5, parent=None):
    assert request_type == "get_ipynb", request_type
    with open(os.environ["COLAB_STANDIN_NOTEBOOK"], encoding="utf-8") as handle:
        return {"ipynb": json.load(handle)}
'''


@pytest.fixture(scope="module")
def kernels(tmp_path_factory) -> pathlib.Path:
    """Two kernelspecs under this interpreter: ``plain``, and ``colab`` (the stand-in)."""
    root = tmp_path_factory.mktemp("standalone")
    standin = root / "standin"
    (standin / "google" / "colab").mkdir(parents=True)
    (standin / "google" / "__init__.py").write_text("")
    (standin / "google" / "colab" / "__init__.py").write_text("")
    (standin / "google" / "colab" / "_shell.py").write_text(SHELL)
    (standin / "google" / "colab" / "_message.py").write_text(MESSAGE)
    (standin / "google" / "colab" / "_kernel.py").write_text(KERNEL)
    specs = root / "kernels"
    base = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    for name, argv, env in (
        ("plain", base, {}),
        ("colab", [*base, "--IPKernelApp.kernel_class=google.colab._kernel.Kernel"],
         {"PYTHONPATH": str(standin), "COLAB_STANDIN_NOTEBOOK": str(root / "in-drive.ipynb")}),
    ):
        (specs / name).mkdir(parents=True)
        (specs / name / "kernel.json").write_text(json.dumps(
            {"argv": argv, "display_name": name, "language": "python", "env": env}))
    return root


def run(kernels: pathlib.Path, kernel: str, assignment: str,
        nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Execute ``nb`` in an empty folder holding only the assignment's data files."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient
    from traitlets import default

    class Manager(AsyncKernelManager):
        @default("kernel_spec_manager")
        def _kernel_spec_manager_default(self):
            return KernelSpecManager(kernel_dirs=[str(kernels / "kernels")])

    folder = kernels / f"run-{kernel}-{assignment}-{len(list(kernels.glob('run-*')))}"
    folder.mkdir()
    manifest = tomllib.loads((REPO / "solutions" / assignment / "assignment.toml").read_text())
    for name in manifest.get("data", []):
        shutil.copy(REPO / "assignments" / assignment / name, folder / name)
    if kernel == "colab":  # in Drive, not on the runtime's disk
        nbformat.write(nb, kernels / "in-drive.ipynb")
    else:
        nbformat.write(nb, folder / f"{assignment}.ipynb")
    copy = nbformat.reads(nbformat.writes(nb), 4)
    NotebookClient(copy, kernel_name=kernel, kernel_manager_class=Manager, timeout=120,
                   allow_errors=True, resources={"metadata": {"path": str(folder)}}).execute()
    assert sorted(p.name for p in folder.iterdir() if p.suffix == ".ipynb") == (
        [] if kernel == "colab" else [f"{assignment}.ipynb"])
    return copy


def student(assignment: str) -> nbformat.NotebookNode:
    return nbformat.read(REPO / "assignments" / assignment / f"{assignment}.ipynb", 4)


def solved(assignment: str) -> nbformat.NotebookNode:
    """The student notebook with the reference solution run just before each check."""
    nb = student(assignment)
    reference = (REPO / "solutions" / assignment / "reference.py").read_text()
    cells = []
    for cell in nb.cells:
        if cell.cell_type == "code" and CHECK.fullmatch(cell.source.strip()):
            cells.append(nbformat.v4.new_code_cell(reference))
        cells.append(cell)
    nb.cells = cells
    return nb


def checks(nb: nbformat.NotebookNode) -> dict[str, str]:
    """qid -> what its grader.check cell printed (errors included)."""
    found = {}
    for cell in nb.cells:
        match = CHECK.fullmatch(cell.source.strip()) if cell.cell_type == "code" else None
        if match:
            found[match[1]] = "".join(
                o.get("text", "") + json.dumps(o.get("data", {})) + o.get("ename", "")
                + o.get("evalue", "") for o in cell.outputs)
    return found


def public_questions(assignment: str) -> list[str]:
    return sorted(student(assignment).metadata["otter"]["tests"])


@pytest.mark.parametrize("kernel", ["plain", "colab"])
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_public_check_passes_with_the_solution_in_place(kernels, kernel, assignment):
    nb = solved(assignment)
    nb.cells.append(nbformat.v4.new_code_cell(
        "from otter.check.utils import IPythonInterpreter\n"
        "print('on colab:', IPythonInterpreter.COLAB.value.running())"))
    nb = run(kernels, kernel, assignment, nb)
    assert f"on colab: {kernel == 'colab'}" in json.dumps(nb.cells[-1].outputs)
    setup = next(c for c in nb.cells if c.cell_type == "code")
    assert not [o for o in setup.outputs if o.output_type == "error"], setup.outputs
    assert "not found" not in json.dumps(setup.outputs)
    found = checks(nb)
    assert sorted(found) == public_questions(assignment)
    for qid, text in found.items():
        assert "All test cases passed!" in text, (qid, text[-600:])


@pytest.mark.parametrize("kernel", ["plain", "colab"])
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_bare_skeletons_checks_run_and_name_the_stub(kernels, kernel, assignment):
    """No ``Tests directory ./tests does not exist``, no ``NameError: grader``: each check runs
    and reports the skeleton's NotImplementedError."""
    found = checks(run(kernels, kernel, assignment, student(assignment)))
    assert sorted(found) == public_questions(assignment)
    for qid, text in found.items():
        assert "NameError" not in text and "does not exist" not in text, (qid, text[-600:])
        assert "NotImplementedError" in text, (qid, text[-600:])
