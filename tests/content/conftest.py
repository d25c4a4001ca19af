"""Fixtures for the assignment-content tests (HW1: master notebook, student notebook, reference).

The build script and the reference module are plain files, not packages, so they are loaded
from their paths.  Notebooks are executed with nbclient in a kernel that runs *this*
interpreter, through a kernelspec written to a temporary directory, so the tests work on a
fresh machine where only ``pip install -e .`` has run (no ``ipykernel install`` needed).
"""

from __future__ import annotations

import json
import pathlib
import shutil
import sys
from types import ModuleType

import nbformat
import pytest
from hw1_helpers import (
    BUILD_SCRIPT,
    HW1,
    KERNEL_NAME,
    MASTER,
    REFERENCE,
    REPO,
    STUDENT_NB,
    load_module,
)


@pytest.fixture(scope="session")
def build_module() -> ModuleType:
    """solutions/build.py as a module."""
    return load_module("content_tests_build", BUILD_SCRIPT)


@pytest.fixture(scope="session")
def reference() -> ModuleType:
    """The committed solutions/hw1/reference.py as a module."""
    return load_module("content_tests_hw1_reference", REFERENCE)


class Built:
    """One run of the build into a temporary directory."""

    def __init__(self, outputs: dict, workdir: pathlib.Path):
        self.outputs = outputs
        self.workdir = workdir
        self.autograder_nb = workdir / "dist" / "autograder" / f"{HW1}.ipynb"
        self.student_nb_raw = workdir / "dist" / "student" / f"{HW1}.ipynb"


@pytest.fixture(scope="session")
def built(build_module, tmp_path_factory) -> Built:
    """The files the master produces now (Otter Assign run once per test session)."""
    workdir = tmp_path_factory.mktemp("hw1-build")
    outputs = build_module.build(HW1, REPO, keep=workdir)
    return Built(outputs, workdir)


@pytest.fixture(scope="session")
def student_nb() -> nbformat.NotebookNode:
    """The committed student notebook."""
    return nbformat.read(STUDENT_NB, as_version=4)


@pytest.fixture(scope="session")
def master_nb() -> nbformat.NotebookNode:
    """The master notebook (single source of HW1)."""
    return nbformat.read(MASTER, as_version=4)


@pytest.fixture(scope="session")
def kernel_dir(tmp_path_factory) -> pathlib.Path:
    """A kernelspec directory whose only kernel runs ipykernel under this interpreter."""
    kernels = tmp_path_factory.mktemp("kernels")
    spec_dir = kernels / KERNEL_NAME
    spec_dir.mkdir()
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python (content tests)",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    return kernels


@pytest.fixture(scope="session")
def execute_notebook(kernel_dir, tmp_path_factory):
    """execute(path, files=()) -> the executed notebook, run in a fresh temp directory.

    The notebook is copied (keeping its file name) next to copies of ``files``; every cell
    runs even when an earlier one raised (``allow_errors``).
    """
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient
    from traitlets import default

    class ContentTestsKernelManager(AsyncKernelManager):
        """Finds kernels only in the temporary kernelspec directory."""

        @default("kernel_spec_manager")
        def _kernel_spec_manager_default(self):
            return KernelSpecManager(kernel_dirs=[str(kernel_dir)])

    def execute(path: pathlib.Path, files=(), name: str | None = None) -> nbformat.NotebookNode:
        workdir = tmp_path_factory.mktemp("run")
        target = workdir / (name or path.name)
        shutil.copy(path, target)
        for f in files:
            shutil.copy(f, workdir / pathlib.Path(f).name)
        nb = nbformat.read(target, as_version=4)
        client = NotebookClient(
            nb,
            kernel_name=KERNEL_NAME,
            kernel_manager_class=ContentTestsKernelManager,
            timeout=60,
            allow_errors=True,
            resources={"metadata": {"path": str(workdir)}},
        )
        client.execute()
        return nb

    return execute
