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

Parsing the engine takes most of a second, so ``engine_files`` keeps its answer
in the user's cache (``$XDG_CACHE_HOME/autograder``, else ``~/.cache/autograder``),
checked against every engine ``.py`` file and the grader file: their paths, sizes
and modification times; when those differ, or a file was written too close to
the answer for its time to tell (as git's "racily clean" entries), their contents'
digest decides; only when that differs too is the engine parsed again. So the
answer changes whenever a file it may depend on changes (a module added where an
import pointed at nothing included); a cache that cannot be read or written is
only slower.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import tempfile
import time
from pathlib import Path

from ..sandbox.launch import cache_dir

ENGINE = Path(__file__).resolve().parents[1]
PACKAGE = ENGINE.name
ROOTS = ("grading.grade", "inside.worker")
TOOLKIT = frozenset({"toolkit.checks", "toolkit.cases", "toolkit.tensors"})
ALL = "*"


CACHE_FORMAT = 1
RACY_NS = 2_000_000_000  # a file changed this close to the cached answer is checked by content


def engine_files(grader: Path, engine: Path = ENGINE) -> list[tuple[str, bytes]]:
    """``(label, bytes)`` pairs to hash for an assignment whose graders are ``grader``
    (from the cache when none of the files it may depend on changed)."""
    grader, engine = grader.resolve(), engine.resolve()
    files = [grader, *sorted(p for p in engine.rglob("*.py") if "__pycache__" not in p.parts)]
    stats = [_stat(path) for path in files]
    cache = _cache_path(grader, engine)
    kept = _load(cache)
    if kept is not None and kept["stats"] == stats and not _racy(stats, kept["written_ns"]):
        return _parts(kept)
    contents = _contents_digest(files)
    if kept is not None and kept["contents"] == contents:
        _save(cache, stats, contents, _parts(kept))
        return _parts(kept)
    parts = _engine_files(grader, engine)
    _save(cache, stats, contents, parts)
    return parts


def _cache_path(grader: Path, engine: Path) -> Path:
    key = hashlib.sha256(f"{CACHE_FORMAT}\0{engine}\0{grader}".encode()).hexdigest()[:20]
    return cache_dir() / f"versions-{key}.json"


def _stat(path: Path) -> list[object]:
    try:
        found = path.stat()
    except OSError:
        return [str(path), -1, -1]
    return [str(path), found.st_size, found.st_mtime_ns]


def _racy(stats: list[list[object]], written_ns: object) -> bool:
    """Whether a file's time is too close to the answer's to show a later change."""
    if not isinstance(written_ns, int):
        return True
    return any(isinstance(mtime, int) and mtime > written_ns - RACY_NS
               for _, _, mtime in stats)


def _contents_digest(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        try:
            data = path.read_bytes()
        except OSError:
            data = b"\0missing"
        digest.update(f"{path}\0{len(data)}\0".encode() + data)
    return digest.hexdigest()


def _load(cache: Path) -> dict[str, object] | None:
    try:
        kept = json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(kept, dict) or kept.get("format") != CACHE_FORMAT or not all(
            key in kept for key in ("stats", "contents", "written_ns", "parts")):
        return None
    return kept


def _parts(kept: dict[str, object]) -> list[tuple[str, bytes]]:
    parts = kept["parts"]
    assert isinstance(parts, list)
    return [(str(label), str(data).encode("latin-1")) for label, data in parts]


def _save(cache: Path, stats: list[list[object]], contents: str,
          parts: list[tuple[str, bytes]]) -> None:
    data = json.dumps({"format": CACHE_FORMAT, "stats": stats, "contents": contents,
                       "written_ns": time.time_ns(),
                       "parts": [[label, raw.decode("latin-1")] for label, raw in parts]})
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=cache.parent,
                                         suffix=".tmp", delete=False) as handle:
            handle.write(data)
        os.replace(handle.name, cache)
    except OSError:
        return  # no cache: the next run parses again


def _engine_files(grader: Path, engine: Path) -> list[tuple[str, bytes]]:
    tree = _Tree(engine)
    modules: set[str] = set()
    used: dict[str, set[str]] = {name: set() for name in TOOLKIT}
    todo = [*ROOTS]

    def note(imports: list[tuple[str, set[str]]]) -> None:
        for module, names in imports:
            if module in TOOLKIT:  # only what is used, and the engine modules it imports
                used[module] |= names or {ALL}
                for other, imported in tree.imports(module):
                    if other in TOOLKIT:  # what a toolkit module imports of another one
                        used[other] |= imported or {ALL}
                    else:
                        todo.append(other)
            else:
                todo.append(module)

    note(tree.imports_of(grader.read_text(encoding="utf-8"), None))
    while todo:
        module = todo.pop()
        if module not in modules and tree.file(module) is not None:
            modules.add(module)
            note(tree.imports(module))
    parts = [(tree.label(m), tree.read(m)) for m in sorted(modules - TOOLKIT)]
    for module in sorted(TOOLKIT):
        if used[module] and tree.file(module) is not None:
            parts.append((f"{tree.label(module)}:used",
                          _used_source(tree.read(module).decode("utf-8"),
                                       frozenset(used[module]))))
    return parts


class _Tree:
    """The engine's files by dotted module name (``grading.grade``), each read once."""

    def __init__(self, engine: Path) -> None:
        self.engine = engine
        self._files: dict[str, Path | None] = {}
        self._bytes: dict[str, bytes] = {}
        self._imports: dict[str, list[tuple[str, set[str]]]] = {}

    def file(self, module: str) -> Path | None:
        """``a/b.py`` or ``a/b/__init__.py`` for ``a.b``; None if neither exists."""
        if module not in self._files:
            base = self.engine.joinpath(*module.split("."))
            self._files[module] = next(
                (path for path in (base.with_name(base.name + ".py"), base / "__init__.py")
                 if path.is_file()), None)
        return self._files[module]

    def label(self, module: str) -> str:
        path = self.file(module)
        assert path is not None
        return path.relative_to(self.engine).as_posix()

    def read(self, module: str) -> bytes:
        if module not in self._bytes:
            path = self.file(module)
            assert path is not None
            self._bytes[module] = path.read_bytes()
        return self._bytes[module]

    def imports(self, module: str) -> list[tuple[str, set[str]]]:
        if module not in self._imports:
            self._imports[module] = self.imports_of(self.read(module).decode("utf-8"), module)
        return self._imports[module]

    def imports_of(self, source: str, module: str | None) -> list[tuple[str, set[str]]]:
        """``(module, names)`` for each import of an engine module (names empty: the whole
        module); ``module`` is the importer's dotted name, None for a file outside the engine."""
        package = (module or "").split(".")[:-1]
        path = self.file(module) if module is not None else None
        if module is not None and path is not None and path.name == "__init__.py":
            package = module.split(".")
        found: list[tuple[str, set[str]]] = []
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom):
                if node.level and module is not None:
                    parts = package[:len(package) - (node.level - 1)]
                    dotted = node.module or ""
                elif not node.level and (node.module or "").split(".")[0] == PACKAGE:
                    parts, dotted = [], (node.module or "").partition(".")[2]
                else:
                    continue
                base = ".".join([*parts, *filter(None, dotted.split("."))])
                for alias in node.names:  # ``from pkg import module`` names a module
                    sub = f"{base}.{alias.name}" if base else alias.name
                    if self.file(sub) is not None:
                        found.append((sub, set()))
                    elif base:
                        found.append((base, {alias.name}))
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == PACKAGE:
                        found.append((alias.name.partition(".")[2], set()))
                    elif module is not None:  # a sibling by plain name (the inside's own files)
                        sibling = ".".join([*package, alias.name])
                        if self.file(sibling) is not None:
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
