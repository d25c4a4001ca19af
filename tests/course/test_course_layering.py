"""The course package keeps its layering promises."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

COURSE = Path(__file__).resolve().parents[2] / "course"
MODULES = sorted(COURSE.glob("*.py"))


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    return names | {
        node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
    }


@pytest.mark.parametrize("path", MODULES, ids=[p.name for p in MODULES])
def test_course_never_imports_autograder(path: Path) -> None:
    """course reads the gradebook CSV contract only."""
    assert not any(name.split(".")[0] == "autograder" for name in imported_modules(path))


@pytest.mark.parametrize("path", MODULES, ids=[p.name for p in MODULES])
def test_only_the_entry_point_exits(path: Path) -> None:
    """Nothing below the CLI calls sys.exit; errors are raised and mapped in cli.py."""
    calls_exit = "sys.exit(" in path.read_text()
    assert calls_exit == (path.name == "__main__.py")
