"""Where a name the graders missed is written, when it is written outside the code cells.

A student who types an answer into a markdown or raw cell (or turns a code cell into
one by a stray key) reads only "`sigmoid` is not defined" otherwise. Read lazily, only
for a submission whose checks missed a name (``grade.grade_submission``).
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

PROSE = ("markdown", "raw")


def written_in_prose(path: Path, names: set[str]) -> dict[str, str]:
    """``name -> "a markdown cell (cell 12)"`` for each of ``names`` defined (``def``,
    ``class`` or ``name =`` at the start of a line) in a markdown or raw cell."""
    try:
        node = nbformat.reads(path.read_bytes().decode("utf-8-sig"), as_version=4)
    except Exception:  # noqa: BLE001 - the notebook was read once already; a hint only
        return {}
    found: dict[str, str] = {}
    for index, cell in enumerate(node.get("cells", [])):
        kind = cell.get("cell_type") if isinstance(cell, dict) else None
        source = cell.get("source", "") if kind in PROSE else ""
        if isinstance(source, list):
            source = "".join(str(part) for part in source)
        if not isinstance(source, str):
            continue
        for name in sorted(names - set(found)):
            if _defines(source, name):
                found[name] = f"a {kind} cell (cell {index + 1})"
    return found


def _defines(source: str, name: str) -> bool:
    quoted = re.escape(name)
    return re.search(rf"^[ \t>]*(?:(?:async[ \t]+)?def|class)[ \t]+{quoted}\b"
                     rf"|^[ \t>]*{quoted}[ \t]*=(?!=)", source, re.MULTILINE) is not None


def where(name: str, place: str) -> str:
    return f"`{name}` is written in {place}; only code cells run"
