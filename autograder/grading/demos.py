"""Demonstration cells: the skeleton's plots and demo trainings, run only when they matter.

The author tags a code cell of the master notebook ``demo`` (docs/adding-an-assignment.md):
it shows something (a plot, a demo training, a gradient check printed) and no grade
depends on it. ``solutions/build.py`` keeps the tag in the student notebook, and the
engine reads it from there (``Assignment.demo_cells``), never from a submission, whose
metadata the student controls. The rule, per submission:

* a code cell whose text is a demonstration cell's text (lines compared without their
  trailing spaces) is **skipped**, unless
* a cell that runs after it reads a name it binds, or a function or class of any cell
  that runs reads one (the graders may call it later), or a cell that runs after it
  reads the notebook's globals in a way this analysis cannot follow (``globals()``,
  ``eval``, ``get_ipython()`` other than a known magic, ``Out``, ``_``, ``__main__`` ...);
* the analysis is repeated until nothing changes: a demonstration that runs because
  another needs it makes its own reads count;
* a grader that asks for a name a skipped cell binds gets the notebook run again from
  the start with every cell (``StudentSession``), so no check ever sees a notebook that
  Jupyter would not have produced.

A changed demonstration cell is the student's code and runs like any other. What the
analysis does not follow is state changed other than by binding a name (an object
mutated in place, a global seed, the working folder); the author keeps that out of a
demonstration cell (``demo_problems`` refuses the common ones at build time), and the
student's own functions that assign globals (``global x``) count as bound by every
demonstration cell that calls anything. The workers are seeded afresh for every
submission, so no grade can depend on the random state a skipped cell would have left.
"""

from __future__ import annotations

import ast
import functools
import re
import symtable
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

# names through which code reads the notebook's globals without naming them
DYNAMIC = frozenset({
    "globals", "locals", "eval", "exec", "compile", "__import__", "get_ipython",
    "In", "Out", "_", "__", "___", "_i", "_ii", "_iii", "_ih", "_oh", "_dh", "__builtins__",
    "__builtin__",
})
# magics that read and bind no name of the notebook
QUIET_MAGICS = frozenset({
    "matplotlib", "config", "load_ext", "reload_ext", "unload_ext", "pip", "conda",
    "autoreload", "aimport", "env", "cd", "pwd", "ls", "mkdir", "pinfo", "pinfo2", "psource",
    "pdoc", "pdef", "xmode", "precision", "colors", "writefile", "html", "HTML", "markdown",
    "latex", "javascript", "js", "svg", "bash", "sh", "script", "system", "sx", "lsmagic",
    "magic", "quickref", "doctest_mode", "automagic", "alias_magic", "clear", "tensorboard",
})
# magics whose line (or cell) is Python run in the notebook's namespace
CODE_MAGICS = frozenset({"time", "timeit", "prun", "capture"})
# calls that change state a later cell can see without binding a name
STATE_CALLS = frozenset({
    "seed", "manual_seed", "manual_seed_all", "set_rng_state", "set_state", "chdir",
    "set_default_dtype", "set_default_device", "set_num_threads", "setrecursionlimit",
    "use_deterministic_algorithms", "filterwarnings", "simplefilter", "set_printoptions",
})
REFLECTION = re.compile(r"get_ipython|__main__|\b(?:dir|vars)\s*\(\s*\)")
SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
MAX_CELL_CHARS = 200_000  # a longer cell is not analysed: it reads everything
# a notebook with more code than this is run whole, not analysed: the analysis runs on the
# trusted side, outside the sandbox's limits (about 1 s for this much; a homework has ~30 KB)
MAX_PLAN_CHARS = 256 * 1024
MAX_CACHED_CHARS = 10_000


@dataclass(frozen=True, slots=True)
class Effects:
    """What one cell reads and binds in the notebook's globals, as far as can be told."""

    reads: frozenset[str] = frozenset()  # at the cell's top level, as it runs
    later_reads: frozenset[str] = frozenset()  # in its functions and classes: when called
    binds: frozenset[str] = frozenset()
    binds_when_called: frozenset[str] = frozenset()  # ``global x`` in its functions
    calls: bool = False
    unknown: bool = False  # its top level may read any global (or it could not be analysed)
    unknown_later: bool = False  # one of its functions may read any global
    star: bool = False  # ``from m import *``: binds names not known here

    @classmethod
    def anything(cls) -> Effects:
        """Reads and binds anything, and may define functions that do too."""
        return cls(calls=True, unknown=True, unknown_later=True, star=True)


def normalized(source: str) -> str:
    """A cell's text as compared with the skeleton's: no trailing spaces, no blank ends."""
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


def effects(source: str) -> Effects:
    """The cell's ``Effects``; a cell that cannot be read is taken to read everything.
    Cached per text when short (the skeleton's cells recur in every submission; a long
    text is not kept: the cache stays under 20 MB whatever the notebooks hold)."""
    return _cached_effects(source) if len(source) <= MAX_CACHED_CHARS else _effects(source)


@functools.lru_cache(maxsize=2048)
def _cached_effects(source: str) -> Effects:
    return _effects(source)


def _effects(source: str) -> Effects:
    if len(source) > MAX_CELL_CHARS:
        return Effects.anything()
    parsed = _as_python(source)
    if parsed is None:
        return Effects.anything()
    code, tree = parsed
    if tree is None:  # the kernel compiles it the same way: none of it runs
        return Effects()
    try:
        table = symtable.symtable(code, "<cell>", "exec")
    except SyntaxError:
        return Effects()
    except (ValueError, RecursionError, MemoryError):
        return Effects.anything()
    top = _top_level(tree)
    # the rare cells that may use IPython or reflection are walked whole; others need not be
    nodes = list(ast.walk(tree)) if REFLECTION.search(code) else top
    magic = _magics(nodes)
    reads, binds = set(magic.reads), set(magic.binds)
    later: set[str] = set()
    when_called: set[str] = set()
    for symbol in table.get_symbols():
        name = symbol.get_name()
        if symbol.is_referenced():
            reads.add(name)
        if symbol.is_assigned() or symbol.is_imported() or symbol.is_namespace():
            binds.add(name)
    for child in table.get_children():
        _nested(child, later, when_called)
    for node in top:  # ``x += 1`` and ``del x`` at the top level read x first
        if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            reads.add(node.target.id)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Del):
            reads.add(node.id)
    if magic.handled == sum(isinstance(n, ast.Name) and n.id == "get_ipython" for n in nodes):
        reads.discard("get_ipython")  # every use is a magic or a shell line accounted for
    reflective = _reflective(nodes)
    return Effects(
        frozenset(reads), frozenset(later), frozenset(binds), frozenset(when_called),
        calls="(" in code,  # a call, or a parenthesis: either way it may call a function
        unknown=magic.unknown or bool(reads & DYNAMIC) or reflective,
        unknown_later=bool(later & DYNAMIC) or (reflective and bool(table.get_children())),
        star=any(isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names)
                 for n in top))  # ``import *`` is only allowed at the top level


def _top_level(tree: ast.Module) -> list[ast.AST]:
    """The nodes that run when the cell runs: not inside a function, lambda or class (most
    of a student's code is in functions, which this does not walk)."""
    top: list[ast.AST] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        top.append(node)
        if not isinstance(node, SCOPES):
            stack.extend(ast.iter_child_nodes(node))
    return top


def _reflective(nodes: list[ast.AST]) -> bool:
    """``dir()`` or ``vars()`` without an argument, ``import __main__``, or ``"__main__"``
    other than compared with ``__name__``: the notebook's globals read by reflection."""
    compared = {id(c) for n in nodes if isinstance(n, ast.Compare)
                for c in (n.left, *n.comparators)}
    for node in nodes:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                node.func.id in ("dir", "vars") and not node.args:
            return True
        if isinstance(node, ast.Import | ast.ImportFrom) and (
                any(a.name == "__main__" for a in node.names)
                or getattr(node, "module", None) == "__main__"):
            return True
        if isinstance(node, ast.Constant) and node.value == "__main__" and id(node) not in compared:
            return True
    return False


def _nested(table: symtable.SymbolTable, reads: set[str], binds: set[str]) -> None:
    """The global names a function or class body reads, and those it declares global."""
    for symbol in table.get_symbols():
        if symbol.is_declared_global():
            reads.add(symbol.get_name())
            binds.add(symbol.get_name())
        elif symbol.is_global() and symbol.is_referenced():
            reads.add(symbol.get_name())
    for child in table.get_children():
        _nested(child, reads, binds)


def _as_python(source: str) -> tuple[str, ast.Module | None] | None:
    """The cell as Python (itself, or IPython's transform of it: magics, ``!``, ``?``) and
    its tree (None: a syntax error); None when IPython cannot transform it."""
    try:
        return source, ast.parse(source)
    except SyntaxError:
        pass
    except (ValueError, RecursionError, MemoryError):
        return None
    try:
        code = str(_transformer().transform_cell(source))
    except Exception:  # noqa: BLE001 - IPython's transforms raise many things on bad input
        return None
    try:
        return code, ast.parse(code)
    except SyntaxError:
        return code, None
    except (ValueError, RecursionError, MemoryError):
        return None


@functools.cache
def _transformer() -> Any:
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager()


@dataclass
class _Magic:
    reads: set[str] = field(default_factory=set)
    binds: set[str] = field(default_factory=set)
    handled: int = 0  # the ``get_ipython`` uses accounted for
    unknown: bool = False


def _magics(nodes: list[ast.AST]) -> _Magic:
    """What the cell's ``get_ipython().run_*_magic(...)`` and shell calls read and bind."""
    found = _Magic()
    for node in nodes:
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Call)
                and isinstance(node.func.value.func, ast.Name)
                and node.func.value.func.id == "get_ipython"):
            continue
        args = [a.value for a in node.args if isinstance(a, ast.Constant)
                and isinstance(a.value, str)]
        method = node.func.attr
        if not args or len(args) != len(node.args):
            found.unknown = True
            continue
        found.handled += 1
        if method in ("system", "getoutput"):
            found.unknown |= "{" in args[0] or "$" in args[0]  # IPython fills these in
        elif method in ("run_line_magic", "run_cell_magic"):
            _magic(found, method == "run_cell_magic", *args)
        else:
            found.unknown = True
    return found


def _magic(found: _Magic, cell_magic: bool, name: str, line: str = "", body: str = "") -> None:
    if name in QUIET_MAGICS:
        return
    if name not in CODE_MAGICS:
        found.unknown = True
        return
    code = [body] if cell_magic else [line]
    if name == "capture":  # ``%%capture out``: binds ``out``; its line is options
        found.binds.update(word for word in line.split()[:1] if not word.startswith("-"))
    elif cell_magic and line.strip():
        code.append(line)  # ``%%timeit setup`` (options make it unreadable: unknown)
    for text in code:
        inner = effects(text)
        found.unknown |= inner.unknown or inner.unknown_later or inner.star
        found.reads |= inner.reads | inner.later_reads
        found.binds |= inner.binds


@dataclass(frozen=True, slots=True)
class DemoPlan:
    """Which cells of one submission are skipped, and the names each would have bound."""

    skipped: dict[int, frozenset[str]]  # cell index -> names it binds

    def needs(self, name: str) -> bool:
        """True when ``name`` may be bound by a skipped cell (a grader asking for it
        must see the notebook with them run)."""
        return any(name in binds for binds in self.skipped.values())


def plan(sources: Sequence[str], demo_cells: Iterable[str]) -> DemoPlan:
    """Which of the cells (in notebook order, by position) to skip: see the module's rule."""
    demos = frozenset(demo_cells)
    if not demos or sum(map(len, sources)) > MAX_PLAN_CHARS:
        return DemoPlan({})
    candidates = {i for i, text in enumerate(sources) if normalized(text) in demos}
    if not candidates:
        return DemoPlan({})
    found = [effects(text) for text in sources]
    skip = {i for i in candidates if not found[i].star}
    while True:
        running = [e for i, e in enumerate(found) if i not in skip]
        later = frozenset().union(*(e.later_reads for e in running))
        when_called = frozenset().union(*(e.binds_when_called for e in running))
        everything = any(e.unknown_later for e in running)
        live: set[str] = set(later)
        kept = set(skip)
        for i in reversed(range(len(found))):
            cell = found[i]
            if i in kept:
                binds = cell.binds | (when_called if cell.calls else frozenset())
                if not (everything or binds & live):
                    continue
                kept.discard(i)
            everything = everything or cell.unknown
            live |= cell.reads | cell.later_reads
        if kept == skip:
            return DemoPlan({i: found[i].binds for i in sorted(skip)})
        skip = kept


def demo_problems(source: str) -> list[str]:
    """Why a cell cannot be a demonstration (for the author, at build time): state it
    changes other than by binding names, or text that cannot be analysed."""
    found = effects(source)
    if found.star:
        return ["it imports with `*` (the names it binds cannot be known)"]
    problems = []
    if found.unknown:
        problems.append("it reads the notebook's globals in a way the engine cannot follow")
    parsed = _as_python(source)
    tree = parsed[1] if parsed else None
    for node in ast.walk(tree or ast.parse("")):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in STATE_CALLS:
                problems.append(f"it calls `{name}`, which changes state later cells see "
                                "(use a local generator, e.g. np.random.default_rng)")
        elif isinstance(node, ast.Global | ast.Nonlocal):
            problems.append("it declares names global inside a function")
    return problems
