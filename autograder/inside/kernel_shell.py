"""Jupyter's semantics for the sandboxed worker: the shell a notebook's cells run in.

Imported by ``worker.py`` and ``worker_serve.py`` inside the sandbox (a copy of this file
lies next to it), never by the trusted side. It builds IPython's ``InteractiveShell`` the
way ipykernel configures its own, minus the kernel (ipykernel's ``ZMQInteractiveShell``
needs a kernel session and ZMQ sockets; its in-process kernel starts threads and a
debugger): matplotlib's inline backend from the start; ``display()``, rich outputs and a
cell's last value formatted as text and discarded; ``input()``/``getpass()`` raising
``StdinNotImplementedError`` as under nbclient; ``breakpoint()`` doing nothing, as
ipykernel's hook with no debugger attached; ``exit()``/``quit()`` not stopping the cell,
as in a kernel run by nbclient; IPython's own magics (``%timeit`` runs once unless told).

What the grading environment lacks is not the student's fault; each such event is a
*note* sent back with the cell's reply. Shell escapes and shell magics, unknown line
magics, ``%cd`` (and ``os.chdir`` into Colab's ``/content``...) into a missing folder,
``%load_ext`` of an extension not installed are skipped (``habits``); a cell-level ``import`` of a module
that is not installed binds a stand-in (``google.colab``'s functions are no-ops), except
inside ``try`` blocks, in installed libraries, and when the import would rebind a name
the notebook already bound (``from common.functions import sigmoid`` after the student's
own ``sigmoid``): then it raises as in Jupyter. The list, with each note, is
docs/jupyter-differences.md.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import getpass
import importlib.abc
import importlib.machinery
import os
import shlex
import sys
import types
from typing import Any

NOTES: list[str] = []
MAX_NOTES = 50
SHELL_MAGICS = {
    "line": ("sx", "system", "pip", "conda", "mamba", "micromamba", "uv"),
    "cell": ("bash", "sh", "script", "perl", "ruby", "python2", "python3", "pypy", "sx", "system",
             "shell", "cmd", "powershell"),
}
NO_INPUT = "raw_input was called, but this frontend does not support input requests."
NO_GETPASS = "getpass was called, but this frontend does not support input requests."


def note(text: str) -> None:
    """Record something the grader did differently from Jupyter, for this cell's reply."""
    text = text[:300]
    if text not in NOTES and len(NOTES) < MAX_NOTES:
        NOTES.append(text)


def take_notes() -> list[str]:
    taken = NOTES[:]
    NOTES.clear()
    return taken


def _short(text: str, cap: int = 80) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= cap else text[: cap - 1] + "…"


# ----------------------------------------------------------------------------- the shell


def make_shell() -> Any:
    """An InteractiveShell configured as ipykernel configures its own (see the module doc)."""
    from IPython.core.autocall import ExitAutocall
    from IPython.core.displayhook import DisplayHook
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.text import SList
    from traitlets import default
    from traitlets.config import Config

    class KernelExit(ExitAutocall):
        """ipykernel's ``exit``/``quit``: they take ``keep_kernel`` and ask the front end."""

        def __call__(self, keep_kernel: bool = False) -> None:
            note("`exit()` did not stop the notebook: grading runs every cell, as Jupyter "
                 "does when it runs a whole notebook")

    class QuietDisplayPublisher(DisplayPublisher):
        """Rich outputs go to the notebook's display area, never to stdout: dropped here."""

        def publish(self, data: Any, metadata: Any = None, *args: Any, **kwargs: Any) -> None:
            return None

        def clear_output(self, wait: bool = False) -> None:
            return None

    class QuietDisplayHook(DisplayHook):
        """A cell's last value is an ``execute_result`` in Jupyter, not printed output."""

        def write_output_prompt(self) -> None:
            return None

        def write_format_data(self, format_dict: Any, md_dict: Any = None) -> None:
            return None

    class GradingShell(InteractiveShell):
        display_pub_class = QuietDisplayPublisher
        displayhook_class = QuietDisplayHook

        def enable_gui(self, gui: Any = None) -> None:
            if gui not in (None, "inline"):
                note(f"no GUI event loop during grading ({gui}); figures are not shown")

        def enable_matplotlib(self, gui: Any = None) -> Any:
            if gui not in (None, "auto", "inline"):
                note(f"`%matplotlib {_short(gui, 30)}` is not available during grading; "
                     "used `%matplotlib inline` instead")
                gui = "inline"
            return super().enable_matplotlib(gui)

        def system(self, cmd: str) -> None:
            note(f"shell command `!{_short(cmd)}` was skipped (shell commands do not run "
                 "during grading)")

        system_raw = system_piped = system

        def getoutput(self, cmd: str, split: bool = True, depth: int = 0) -> Any:
            self.system(cmd)
            return SList() if split else ""

        @default("exiter")
        def _default_exiter(self) -> Any:
            return KernelExit(self)

        def run_line_magic(self, magic_name: str, line: str, _stack_depth: int = 1) -> Any:
            if magic_name == "timeit" and not _has_repeat_flags(line):
                line = "-n1 -r1 " + line
            if magic_name == "cd":
                target = _cd_target(line)
                if target is not None and not _is_dir(target):
                    note(f"`%cd {_short(line, 60)}` was skipped: that folder does not exist "
                         "during grading")
                    return None
            if magic_name in ("load_ext", "reload_ext") and _sibling("habits").missing_extension(
                    line):
                note(f"`%{magic_name} {_short(line, 40)}`: that extension is not installed in "
                     "the grading environment; the line was skipped")
                return None
            if self.find_line_magic(magic_name) is None:
                note(f"`%{_short(magic_name, 30)}` is not a magic the grader knows; the line "
                     "was skipped")
                return None
            return super().run_line_magic(magic_name, line, _stack_depth + 1)

    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.colors = "nocolor"
    config.InteractiveShell.xmode = "Plain"
    shell = GradingShell.instance(config=config)
    for name in SHELL_MAGICS["line"]:
        shell.register_magic_function(  # type: ignore[call-arg]  # IPython's decorator hides it
            _skip_line_magic(name), magic_kind="line", magic_name=name)
    for name in SHELL_MAGICS["cell"]:
        shell.register_magic_function(  # type: ignore[call-arg]
            _skip_cell_magic(name), magic_kind="cell", magic_name=name)
    assert shell.display_formatter is not None  # made by InteractiveShell.__init__
    shell.display_formatter.active_types = ["text/plain"]  # figures are never rendered
    shell.set_hook("show_in_pager", _nothing)
    _no_stdin()
    sys.breakpointhook = _nothing
    _sibling("habits").guard_chdir(shell.user_ns, note)
    _inline_matplotlib(shell)
    shell.ast_transformers.append(MissingImports())
    STAND_INS.user_globals = shell.user_ns
    sys.meta_path.append(STAND_INS)
    builtins._autograder_missing_ok = STAND_INS.allowed  # type: ignore[attr-defined]
    return shell


NOTEBOOK_LIBRARIES = ("numpy", "numpy.random", "matplotlib.pyplot")


def preload() -> None:
    """Import what nearly every notebook uses, in a process that forks one child per run (the
    sandbox's zygote, the check server), so no child pays for it. ``numpy.random`` is its
    own entry: NumPy 2 imports it lazily, and each child reseeds it (about 20 ms). Then
    matplotlib's Axes stop making ticks nobody looks at (``lazy_ticks``)."""
    for module in NOTEBOOK_LIBRARIES:
        with contextlib.suppress(Exception):
            __import__(module)
    _sibling("lazy_ticks").install()


def _sibling(name: str) -> Any:
    """A module of ``inside/``: the package's on the trusted side, the copy next to
    ``worker.py`` in the sandbox."""
    return importlib.import_module(f"{__package__}.{name}" if __package__ else name)


def import_from_working_folder() -> None:
    """As ipykernel: the working folder's modules are importable (``%%writefile m.py``, then
    ``import m``). Called where student code runs (the forked worker), never in the zygote."""
    if "" not in sys.path:
        sys.path.insert(0, "")


def _nothing(*_args: Any, **_kwargs: Any) -> None:
    """The pager (``len?`` is a payload in Jupyter, not stdout); ``breakpoint()`` (ipykernel's
    debugpy hook with no debugger attached)."""


def _skip_line_magic(name: str) -> Any:
    def skip(line: str = "") -> None:
        note(f"`%{name} {_short(line, 60)}` was skipped (shell commands do not run during grading)")
    return skip


def _skip_cell_magic(name: str) -> Any:
    def skip(line: str = "", cell: str = "") -> None:
        note(f"`%%{name}` cell was skipped (shell commands do not run during grading)")
    return skip


def _has_repeat_flags(line: str) -> bool:
    with contextlib.suppress(ValueError):
        words = shlex.split(line, posix=True)
        return any(w.startswith(("-n", "-r")) for w in words)
    return True


def _cd_target(line: str) -> str | None:
    words = [w for w in line.split() if not w.startswith("-")]
    return " ".join(words).strip("'\"") if words else None


def _is_dir(path: str) -> bool:
    return os.path.isdir(os.path.expanduser(path))


def _no_stdin() -> None:
    """As when nbclient runs a notebook: no frontend answers input requests."""
    from IPython.core.error import StdinNotImplementedError

    def no_input(prompt: object = "") -> str:
        raise StdinNotImplementedError(NO_INPUT)

    def no_getpass(prompt: str = "Password: ", stream: Any = None) -> str:
        raise StdinNotImplementedError(NO_GETPASS)

    builtins.input = no_input
    getpass.getpass = no_getpass


def _inline_matplotlib(shell: Any) -> None:
    """matplotlib-inline is the kernel's default backend: select it as ipykernel does.

    Before matplotlib is imported, ipykernel's way: ``MPLBACKEND`` names the
    inline backend, which configures the shell when pyplot loads it (nothing is
    imported until the notebook does). When matplotlib is already imported (the
    zygote preloads it), the inline backend is activated at once.
    """
    if "matplotlib" not in sys.modules:
        os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
        return
    with contextlib.suppress(ImportError):
        shell.enable_matplotlib("inline")
        take_notes()


# ----------------------------------------------------------------------------- missing modules


class MissingImports(ast.NodeTransformer):
    """Wraps each cell-level ``import`` (not those inside ``try``) so a missing module is stood in."""

    def visit_Module(self, node: ast.Module) -> ast.Module:
        node.body = [self._wrap(statement) for statement in node.body]
        return node

    def _wrap(self, statement: ast.stmt) -> ast.stmt:
        if isinstance(statement, ast.Import) or (
                isinstance(statement, ast.ImportFrom) and statement.level == 0
                and statement.module != "__future__"):
            bound: list[ast.expr] = [ast.Constant(value=n) for n in _bound_names(statement)]
            guard = ast.With(
                items=[ast.withitem(context_expr=ast.Call(
                    func=ast.Name(id="_autograder_missing_ok", ctx=ast.Load()),
                    args=[ast.Tuple(elts=bound, ctx=ast.Load())], keywords=[]))],
                body=[statement])
            return ast.fix_missing_locations(ast.copy_location(guard, statement))
        return statement


def _bound_names(statement: ast.Import | ast.ImportFrom) -> list[str]:
    """The names an import statement binds (``import a.b`` binds ``a``; ``*`` binds none
    we can know)."""
    if isinstance(statement, ast.Import):
        return [alias.asname or alias.name.split(".")[0] for alias in statement.names]
    return [alias.asname or alias.name for alias in statement.names if alias.name != "*"]


class StandIns(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """The last finder on ``sys.meta_path``: a stand-in for a module no other finder has.

    Active only inside ``_autograder_missing_ok()`` and only for imports made
    directly by the notebook's code (not by libraries it imports).
    """

    def __init__(self) -> None:
        self.active = 0
        self.made: list[str] = []
        self.user_globals: dict[str, Any] | None = None
        self.binds: tuple[str, ...] = ()

    @contextlib.contextmanager
    def allowed(self, binds: tuple[str, ...] = ()) -> Any:
        """Stand-ins for this import, which binds ``binds``; none if it would replace one
        of the notebook's own names (then it fails as in Jupyter)."""
        self.active += 1
        self.binds, outer = tuple(binds), self.binds
        made = len(self.made)
        try:
            yield
        finally:
            self.active -= 1
            self.binds = outer
            new = self.made[made:]
            for name in new:  # one note per import: the deepest module named
                if not any(other.startswith(name + ".") for other in new):
                    top = name.split(".")[0]
                    note(f"module `{_short(name, 60)}` is not installed in the grading "
                         "environment; its import was skipped"
                         + ("" if top in QUIET_MODULES else " (code that uses it fails)"))

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if not self.active or not self._from_notebook() or self._would_replace():
            return None
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def _from_notebook(self) -> bool:
        frame: types.FrameType | None = sys._getframe(2)
        while frame is not None and frame.f_code.co_filename.startswith("<frozen importlib"):
            frame = frame.f_back
        return frame is not None and frame.f_globals is self.user_globals

    def _would_replace(self) -> bool:
        """Whether the import binds a name the notebook bound to something real."""
        names = self.user_globals or {}
        return any(name in names and not isinstance(names[name], StandIn | StandInModule)
                   for name in self.binds)

    def create_module(self, spec: Any) -> types.ModuleType:
        self.made.append(spec.name)
        return StandInModule(spec.name)

    def exec_module(self, module: types.ModuleType) -> None:
        return None


class StandInModule(types.ModuleType):
    """A module that is not installed: attributes are stand-ins, submodules too."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.__path__: list[str] = []
        self.__file__ = None

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__") and attribute.endswith("__"):
            raise AttributeError(attribute)
        return StandIn(f"{self.__name__}.{attribute}")


class StandIn:
    """A name from a module that is not installed; using it says so (or is a no-op)."""

    def __init__(self, qualified: str) -> None:
        self._name = qualified

    def __getattr__(self, attribute: str) -> StandIn:
        if attribute.startswith("__") and attribute.endswith("__"):
            raise AttributeError(attribute)
        return StandIn(f"{self._name}.{attribute}")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        top = self._name.split(".")[0]
        if top == "google":
            note(f"`{_short(self._name, 60)}(...)` did nothing (Colab is not available during "
                 "grading)")
            return {} if self._name.endswith(".upload") else None
        raise ModuleNotFoundError(f"`{self._name}` cannot run: module `{top}` is not installed "
                                  "in the grading environment", name=top)

    def __repr__(self) -> str:
        return f"<{self._name}: not installed in the grading environment>"


QUIET_MODULES = frozenset({"google"})
STAND_INS = StandIns()
