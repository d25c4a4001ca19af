"""The engine's rooms keep their promises: imports point down, never in a circle.

Read from the source with ``ast`` (no import runs): every import of a project
module, function-level and ``TYPE_CHECKING`` ones included, is an arrow.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("autograder", "course", "solutions")

# What each room of ``autograder`` may import (besides itself); a room is a
# subpackage or a top-level module. Floors, bottom up: errors and inside; intake,
# sandbox and toolkit; gradebook; grading; batch, student and bundle; report; cli.
MAY_IMPORT = {
    "errors": set(),
    "inside": set(),
    "intake": {"errors"},
    "sandbox": {"inside"},
    "toolkit": {"errors", "inside"},
    "gradebook": {"errors", "intake", "course"},
    "grading": {"errors", "inside", "intake", "sandbox", "toolkit", "gradebook"},
    "batch": {"errors", "intake", "sandbox", "gradebook", "grading"},
    "student": {"errors", "inside", "intake", "grading"},
    "bundle": {"errors", "grading"},
    "report": {"errors", "intake", "gradebook", "grading"},
    "cli": {"errors", "intake", "sandbox", "gradebook", "grading", "batch", "student",
            "bundle", "report"},
    "__main__": {"cli", "student"},
    "__init__": set(),
}
LONGEST = 400  # lines, for the engine's and the course's files
LONGEST_GRADERS = 500


def project_modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "examples" in path.parts or "__pycache__" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = project_modules()


def imports(module: str, path: Path) -> set[str]:
    """The project modules ``module`` imports (a package's ``__init__`` counts as a module)."""
    is_package = path.name == "__init__.py"
    package = module.split(".") if is_package else module.split(".")[:-1]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
            if package[:2] == ["autograder", "inside"]:  # siblings by plain name, as inside
                names += [f"autograder.inside.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            dotted = ".".join([*base, *filter(None, (node.module or "").split("."))])
            names = [dotted, *(f"{dotted}.{alias.name}" for alias in node.names)]
        for name in names:
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            if name and name != module and not (is_package and name == module):
                targets.add(name)
    return targets


GRAPH = {module: imports(module, path) for module, path in MODULES.items()}


def room(module: str) -> str:
    parts = module.split(".")
    if parts[0] != "autograder":
        return parts[0]
    return parts[1] if len(parts) > 1 else "__init__"


def test_no_module_imports_a_module_that_imports_it_back():
    """No circle of any length between files (Tarjan's strongly connected components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in GRAPH[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in sorted(GRAPH):
        if node not in index:
            visit(node)
    assert circles == []


def test_the_finder_sees_a_circle():
    """The circle test can fail: the pre-split policy pair is found."""
    saved = dict(GRAPH)
    try:
        GRAPH["course.policy"] = GRAPH["course.policy"] | {"course.policy_toml"}
        with pytest.raises(AssertionError):
            test_no_module_imports_a_module_that_imports_it_back()
    finally:
        GRAPH.clear()
        GRAPH.update(saved)


@pytest.mark.parametrize("source", sorted(MAY_IMPORT))
def test_each_room_imports_only_the_rooms_below_it(source):
    crossing = {f"{module} -> {target}"
                for module, targets in GRAPH.items() if module.startswith("autograder")
                and room(module) == source
                for target in targets if room(target) != source
                and room(target) not in MAY_IMPORT[source]}
    assert crossing == set()


def test_every_room_is_listed():
    assert {room(m) for m in GRAPH if m.startswith("autograder")} == set(MAY_IMPORT)


def test_the_inside_imports_only_its_own_files():
    """What runs in the sandbox is the folder ``autograder/inside``: it never imports the
    trusted side, whose files are not there."""
    inside = {m for m in GRAPH if m.startswith("autograder.inside")}
    assert {t for m in inside for t in GRAPH[m]} <= inside


def test_graders_import_only_the_toolkit():
    for module in (m for m in GRAPH if m.endswith(".graders")):
        engine = {t for t in GRAPH[module] if t.startswith("autograder")}
        assert {room(t) for t in engine} <= {"toolkit", "errors"}, module


def test_course_never_imports_the_engine():
    assert not {t for m, ts in GRAPH.items() if m.startswith("course") for t in ts
                if t.startswith("autograder")}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_files_stay_short(module):
    lines = MODULES[module].read_text(encoding="utf-8").count("\n")
    assert lines <= (LONGEST_GRADERS if module.endswith(".graders") else LONGEST)
