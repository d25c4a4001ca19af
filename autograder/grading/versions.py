"""Which engine code decides an assignment's grades, found from the imports.

``Assignment.version`` hashes an assignment's own files and what this module
returns: every engine module that grading imports, directly or not, starting
from ``grading/grade.py`` (the trusted session), ``inside/worker.py`` (started by
path in the sandbox, so no import reaches it) and the engine modules the graders
import. The grader toolkit (``TOOLKIT``) is reduced to the top-level definitions
that are used, with what they use in turn: adding a helper to
``toolkit/checks.py`` does not regrade an assignment that does not call it. No
hand-kept list to forget.

Modules are named by their dotted path inside the package (``grading.grade``);
the files of ``inside/`` import their siblings by plain name (``import
protocol``), as they do in the sandbox.
"""

from __future__ import annotations

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[1]
PACKAGE = ENGINE.name
ROOTS = ("grading.grade", "inside.worker")
TOOLKIT = frozenset({"toolkit.checks", "toolkit.cases"})
ALL = "*"


def engine_files(grader: Path, engine: Path = ENGINE) -> list[tuple[str, bytes]]:
    """``(label, bytes)`` pairs to hash for an assignment whose graders are ``grader``."""
    modules: set[str] = set()
    used: dict[str, set[str]] = {name: set() for name in TOOLKIT}
    todo = [*ROOTS]
    for module, names in _engine_imports(grader.read_text(encoding="utf-8"), None, engine):
        _note(module, names, todo, used, engine)
    while todo:
        module = todo.pop()
        if module in modules or _file(engine, module) is None:
            continue
        modules.add(module)
        for imported, names in _engine_imports(_source(engine, module), module, engine):
            _note(imported, names, todo, used, engine)
    parts = [(_label(engine, m), _read(engine, m)) for m in sorted(modules - TOOLKIT)]
    for module in sorted(TOOLKIT):
        if used[module] and _file(engine, module) is not None:
            parts.append((f"{_label(engine, module)}:used",
                          _used_source(_source(engine, module), frozenset(used[module]))))
    return parts


def _file(engine: Path, module: str) -> Path | None:
    """The file of ``module`` (``a.b``): ``a/b.py`` or ``a/b/__init__.py``; None if neither."""
    base = engine.joinpath(*module.split(".")) if module else engine
    for path in (base.with_name(base.name + ".py"), base / "__init__.py"):
        if module and path.is_file():
            return path
    return engine / "__init__.py" if not module and (engine / "__init__.py").is_file() else None


def _label(engine: Path, module: str) -> str:
    path = _file(engine, module)
    assert path is not None
    return path.relative_to(engine).as_posix()


def _source(engine: Path, module: str) -> str:
    return _read(engine, module).decode("utf-8")


def _read(engine: Path, module: str) -> bytes:
    path = _file(engine, module)
    assert path is not None
    return path.read_bytes()


def _note(module: str, names: set[str], todo: list[str], used: dict[str, set[str]],
          engine: Path) -> None:
    if module in TOOLKIT:
        used[module] |= names or {ALL}
        todo.extend(m for m, _ in _engine_imports(_source(engine, module), module, engine)
                    if m not in TOOLKIT)  # engine modules a toolkit module itself imports
    else:
        todo.append(module)


def _engine_imports(source: str, module: str | None, engine: Path
                    ) -> list[tuple[str, set[str]]]:
    """``(module, names)`` for each import of an engine module (names empty: whole module).

    ``module`` is the importer's dotted name, None for a file outside the engine.
    """
    package = (module or "").split(".")[:-1]
    if module is not None and _file(engine, module) == engine.joinpath(*module.split("."),
                                                                       "__init__.py"):
        package = module.split(".")
    found: list[tuple[str, set[str]]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                if module is None:
                    continue
                parts = package[:len(package) - (node.level - 1)]
            elif (node.module or "").split(".")[0] == PACKAGE:
                parts = []
            else:
                continue
            dotted = node.module or ""
            if not node.level:
                dotted = dotted.partition(".")[2]
            base = ".".join([*parts, *filter(None, dotted.split("."))])
            for alias in node.names:  # ``from pkg import module`` names a module
                sub = f"{base}.{alias.name}" if base else alias.name
                if _file(engine, sub) is not None:
                    found.append((sub, set()))
                elif base:
                    found.append((base, {alias.name}))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                name = alias.name
                if name.split(".")[0] == PACKAGE:
                    found.append((name.partition(".")[2], set()))
                elif module is not None:  # a sibling by plain name (the inside's own files)
                    sibling = ".".join([*package, name])
                    if _file(engine, sibling) is not None:
                        found.append((sibling, set()))
    return [(m, names) for m, names in found if m]


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
