"""Shared constants and helpers of the HW1 content tests (imported by conftest and tests)."""

from __future__ import annotations

import importlib.util
import pathlib
import sys
from types import ModuleType

REPO = pathlib.Path(__file__).resolve().parents[2]
HW1 = "hw1"
MASTER = REPO / "solutions" / HW1 / "hw1-master.ipynb"
STUDENT_NB = REPO / "assignments" / HW1 / "hw1.ipynb"
REFERENCE = REPO / "solutions" / HW1 / "reference.py"
DIGITS = REPO / "assignments" / HW1 / "digits.npz"
BUILD_SCRIPT = REPO / "solutions" / "build.py"

# The contract of specs/hw1.md: question ids with their points, and the names students define.
QUESTIONS = {
    "perceptron": 15,
    "sigmoid": 10,
    "neural_network": 25,
    "mean_squared_error": 10,
    "sigmoid_cross_entropy": 15,
    "softmax": 10,
    "softmax_cross_entropy": 15,
}
FUNCTIONS = (
    "perceptron",
    "xor",
    "sigmoid",
    "neural_network",
    "predict",
    "mean_squared_error",
    "sigmoid_cross_entropy",
    "softmax",
    "softmax_cross_entropy",
)
CONSTANTS = ("AND_WEIGHTS", "OR_WEIGHTS")
SPEC_NAMES = FUNCTIONS[:1] + CONSTANTS + FUNCTIONS[1:]

KERNEL_NAME = "content-tests-python"


def load_module(name: str, path: pathlib.Path) -> ModuleType:
    """Import the file at ``path`` as a fresh module called ``name``."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def code_cells(nb) -> list:
    """The code cells of a notebook."""
    return [c for c in nb.cells if c.cell_type == "code"]


def is_otter_cell(source: str) -> bool:
    """Cells the grading engine skips: the otter init, grader.check and grader.export cells."""
    s = source.strip()
    return (
        "import otter" in s
        or s.startswith(("grader.check", "grader.export"))
        or "otter.Notebook(" in s
    )


def errors(cell) -> list:
    """The error outputs of an executed cell."""
    return [o for o in cell.get("outputs", []) if o.output_type == "error"]


def text_of(cell) -> str:
    """All text a cell printed or displayed (stdout, stderr, text/plain)."""
    parts = []
    for o in cell.get("outputs", []):
        if o.output_type == "stream":
            parts.append(o.text)
        elif o.output_type in ("execute_result", "display_data"):
            parts.append(str(o.get("data", {}).get("text/plain", "")))
        elif o.output_type == "error":
            parts.append(f"{o.ename}: {o.evalue}")
    return "".join(parts)
