"""Which engine code decides an assignment's grades, found from the imports.

``Assignment.version`` hashes an assignment's own files and what this module
returns: every engine module that grading imports, directly or not, starting
from ``grading.py`` (the trusted session), ``worker.py`` (started by path in the
sandbox, so no import reaches it) and the engine modules the graders import.
The grader toolkit (``TOOLKIT``) is reduced to the top-level definitions that
are used, with what they use in turn: adding a helper to ``checks.py`` does not
regrade an assignment that does not call it. No hand-kept list to forget.
"""

from __future__ import annotations

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parent
PACKAGE = ENGINE.name
ROOTS = ("grading", "worker")
TOOLKIT = frozenset({"checks", "cases"})
ALL = "*"


def engine_files(grader: Path, engine: Path = ENGINE) -> list[tuple[str, bytes]]:
    """``(label, bytes)`` pairs to hash for an assignment whose graders are ``grader``."""
    modules: set[str] = set()
    used: dict[str, set[str]] = {name: set() for name in TOOLKIT}
    todo = [*ROOTS]
    for module, names in _engine_imports(grader.read_text(encoding="utf-8")):
        _note(module, names, todo, used, engine)
    while todo:
        module = todo.pop()
        if module in modules or not (engine / f"{module}.py").is_file():
            continue
        modules.add(module)
        for imported, names in _engine_imports((engine / f"{module}.py").read_text("utf-8")):
            _note(imported, names, todo, used, engine)
    parts = [(f"{m}.py", (engine / f"{m}.py").read_bytes()) for m in sorted(modules - TOOLKIT)]
    for module in sorted(TOOLKIT):
        path = engine / f"{module}.py"
        if used[module] and path.is_file():
            parts.append((f"{module}.py:used", _used_source(path.read_text("utf-8"),
                                                              frozenset(used[module]))))
    return parts


def _note(module: str, names: set[str], todo: list[str], used: dict[str, set[str]],
          engine: Path) -> None:
    if module in TOOLKIT:
        used[module] |= names or {ALL}
        todo.extend(_toolkit_imports(engine / f"{module}.py"))
    else:
        todo.append(module)


def _toolkit_imports(path: Path) -> tuple[str, ...]:
    """Engine modules a toolkit module itself imports (they run when it is used)."""
    if not path.is_file():
        return ()
    return tuple(m for m, _ in _engine_imports(path.read_text("utf-8")) if m not in TOOLKIT)


def _engine_imports(source: str) -> list[tuple[str, set[str]]]:
    """``(module, names)`` for each import of an engine module (names empty: whole module)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level == 1 and base:
                found.append((base.split(".")[0], {a.name for a in node.names}))
            elif node.level == 1 or base == PACKAGE:  # from . import x
                found += [(a.name, set()) for a in node.names]
            elif base.startswith(PACKAGE + "."):
                found.append((base.split(".")[1], {a.name for a in node.names}))
        elif isinstance(node, ast.Import):  # the worker imports its siblings by plain name
            found += [(a.name.split(".")[1] if a.name.startswith(PACKAGE + ".") else a.name, set())
                      for a in node.names]  # non-engine names (numpy, ...) have no file: skipped
    return found


def _used_source(source: str, names: frozenset[str]) -> bytes:
    """The module's imports plus the used top-level definitions and what they use."""
    tree = ast.parse(source)
    if ALL in names:
        return source.encode()
    defined: dict[str, ast.stmt] = {}
    for node in tree.body:
        for name in _defines(node):
            defined[name] = node
    wanted, todo = set(), [n for n in names if n in defined]
    while todo:
        name = todo.pop()
        if name in wanted:
            continue
        wanted.add(name)
        todo += [n.id for n in ast.walk(defined[name])
                 if isinstance(n, ast.Name) and n.id in defined and n.id not in wanted]
    kept = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)
            or any(name in wanted for name in _defines(node))]
    return "\n".join(ast.unparse(node) for node in kept).encode()


def _defines(node: ast.stmt) -> list[str]:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [node.name]
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)]
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return [node.target.id]
    return []
