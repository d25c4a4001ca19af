"""Read a submitted notebook (nbformat) and turn it into the cells to run.

Reading never executes anything. Old (v3) notebooks are upgraded to v4.
Otter-grader's own cells (``import otter``, ``grader = otter.Notebook(...)``,
``grader.check(...)``, ``grader.export(...)``) are left out: grading is the
hidden graders' job, and the worker turns any otter call left inside a
student's own cell into a no-op.
"""

from __future__ import annotations

import ast
import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

MAX_NOTEBOOK_BYTES = 32 * 1024 * 1024
# Caps checked on the raw JSON before nbformat reads it (its validation is slow on huge
# notebooks): far above any real homework, far below what makes grading slow.
MAX_CELLS = 2000
MAX_SOURCE_CHARS = 2 * 1024 * 1024  # all code cells together


class InvalidNotebook(Exception):
    """The file cannot be read as a Jupyter notebook; the message says why."""


@dataclass(frozen=True, slots=True)
class Cell:
    """One code cell to run: its position in the notebook (0-based) and source."""

    index: int
    source: str


@dataclass(frozen=True, slots=True)
class Notebook:
    cells: tuple[Cell, ...]
    warnings: tuple[str, ...]


def read_notebook(path: Path) -> Notebook:
    """The code cells of the notebook at ``path``, or InvalidNotebook with a reason."""
    try:
        size = path.stat().st_size
        if size > MAX_NOTEBOOK_BYTES:
            raise InvalidNotebook(f"the file is {size} bytes, over the {MAX_NOTEBOOK_BYTES}-byte limit")
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidNotebook("the file is not UTF-8 text (is it really a .ipynb?)") from None
    except OSError as exc:
        raise InvalidNotebook(f"the file cannot be read: {exc.strerror}") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidNotebook(f"the file is not valid JSON (line {exc.lineno}: {exc.msg})") from None
    except RecursionError:
        raise InvalidNotebook("the file's JSON is nested too deeply to be a notebook") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("nbformat"), int):
        raise InvalidNotebook("the file is JSON but not a Jupyter notebook (no 'nbformat' field)")
    _check_caps(raw)
    notes: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        invalid: dict[str, Exception] = {}  # nbformat validates once, and tells us here
        try:
            node = nbformat.reads(text, as_version=4, capture_validation_error=invalid)
        except Exception as exc:  # noqa: BLE001 - nbformat raises many kinds
            raise InvalidNotebook(f"nbformat cannot read it: {_short(exc)}") from None
        if raw["nbformat"] < 4:
            notes.append(f"nbformat v{raw['nbformat']} notebook upgraded to v4")
        if "ValidationError" in invalid:
            notes.append(f"the notebook does not fully follow nbformat "
                         f"({_short(invalid['ValidationError'])}); graded anyway")
    cells = tuple(_code_cells(node))
    if not cells:
        raise InvalidNotebook("the notebook has no code cells")
    return Notebook(cells=cells, warnings=tuple(notes))


def _check_caps(raw: dict[str, Any]) -> None:
    """Refuse, with a reason, a notebook over the cell-count or source-size caps."""
    cells = raw.get("cells")
    if not isinstance(cells, list):  # v3 keeps cells in worksheets
        worksheets = raw.get("worksheets")
        cells = [c for w in worksheets if isinstance(w, dict) for c in w.get("cells") or []
                 if isinstance(w.get("cells"), list)] if isinstance(worksheets, list) else []
    if len(cells) > MAX_CELLS:
        raise InvalidNotebook(f"the notebook has {len(cells)} cells, over the limit of "
                              f"{MAX_CELLS}")
    total = 0
    for cell in cells:
        source = cell.get("source", cell.get("input", "")) if isinstance(cell, dict) else ""
        parts = source if isinstance(source, list) else [source]
        total += sum(len(part) for part in parts if isinstance(part, str))
    if total > MAX_SOURCE_CHARS:
        raise InvalidNotebook(f"the notebook's cells hold {total} characters, over the limit "
                              f"of {MAX_SOURCE_CHARS}")


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


def _code_cells(node: nbformat.NotebookNode) -> list[Cell]:
    cells = []
    for index, cell in enumerate(node.get("cells", [])):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(str(part) for part in source)
        if not isinstance(source, str) or not source.strip() or is_otter_cell(source):
            continue
        cells.append(Cell(index=index, source=source))
    return cells


def is_otter_cell(source: str) -> bool:
    """True when every statement of the cell is otter-grader plumbing."""
    if source.isascii() and "otter" not in source and "grader" not in source:
        return False  # plumbing names one of them (spelled so: no NFKC-equal letters in ASCII)
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False  # not otter's; running it will say what is wrong
    return bool(tree.body) and all(_is_otter_statement(node) for node in tree.body)


def _is_otter_statement(node: ast.stmt) -> bool:
    if isinstance(node, ast.Import | ast.ImportFrom):
        names = [alias.name for alias in node.names]
        module = getattr(node, "module", None) or ""
        return module.split(".")[0] == "otter" or all(n.split(".")[0] == "otter" for n in names)
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target, value = node.targets[0], node.value
        return (isinstance(target, ast.Name) and target.id == "grader"
                and isinstance(value, ast.Call) and _is_attribute_of(value.func, "otter"))
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        return _is_attribute_of(node.value.func, "grader")
    return False


def _is_attribute_of(func: ast.expr, name: str) -> bool:
    return isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == name
