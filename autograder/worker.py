"""The worker: the only code of ours that runs beside student code.

It is started by ``autograder.sandbox`` inside the sandbox, as
``python worker.py REQUEST_FD REPLY_FD --scratch DIRS``, next to a copy of
``protocol.py``. The process started is the *zygote*: it imports what every
submission needs, runs no student code, and forks one child per submission;
after each child it kills every other process of the sandbox and empties the
scratch folders.
It imports nothing else of the project: the graders, the reference solution
and the gradebook are not on this side of the boundary and are not visible in
the sandbox at all.

A child answers three requests (see ``protocol``):

* ``run_cell``: run one notebook cell in an IPython shell, as Jupyter would
  (magics work; shell escapes are refused; an exception ends the cell, not the
  notebook; SIGINT interrupts it like Jupyter's interrupt button);
* ``call``: call a function the notebook defined, with decoded arguments, and
  send back the encoded result (and, when asked, the arguments as they are
  afterwards); an argument that stands for a trusted function is a proxy that
  asks the trusted side for each value (``callback`` frames);
* ``get``: send back the encoded value of a global variable.

Everything this process sends is a *claim*: the student controls this
process and can replace any of this code. The trusted side checks each reply.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import protocol  # the copy next to this file, not the package module

OUTPUT_KEPT = 4096
REQUEST_CAP = 256 * 1024 * 1024
SHELL_MAGICS = {
    "line": ("sx", "system", "pip", "conda", "mamba", "micromamba", "uv"),
    "cell": ("bash", "sh", "script", "perl", "ruby", "python2", "python3", "pypy", "sx", "system"),
}


class _CappedText(io.TextIOBase):
    """A text sink that keeps the first ``cap`` characters and drops the rest."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.parts: list[str] = []
        self.size = 0
        self.dropped = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        text = str(text)
        room = self.cap - self.size
        if room > 0:
            self.parts.append(text[:room])
            self.size += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def getvalue(self) -> str:
        note = f"\n... [{self.dropped} more characters not kept]" if self.dropped else ""
        return "".join(self.parts) + note


def _refuse_shell(*_args: Any, **_kwargs: Any) -> None:
    print("[autograder] shell commands do not run during grading; this line was skipped.")


def make_shell(real_otter: bool = False) -> Any:
    """An IPython shell with history off and every route to a system shell refused.

    Unless ``real_otter`` (the student's own ``check``), ``otter`` is a stub.
    """
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.colors = "nocolor"
    config.InteractiveShell.xmode = "Plain"
    shell = InteractiveShell.instance(config=config)
    shell.system = shell.system_raw = shell.system_piped = _refuse_shell
    shell.getoutput = _refuse_shell
    for kind, names in SHELL_MAGICS.items():
        for name in names:
            shell.register_magic_function(_refuse_shell, magic_kind=kind, magic_name=name)
    if not real_otter:
        _install_otter_stub()
    return shell


def _install_otter_stub() -> None:
    """``import otter`` / ``grader.check(...)`` in a submission become harmless no-ops."""
    import types

    class _Notebook:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            pass

        def __getattr__(self, name: str) -> Any:
            return lambda *args, **kwargs: None

    stub = types.ModuleType("otter")
    stub.Notebook = _Notebook  # type: ignore[attr-defined]
    sys.modules["otter"] = stub


@contextlib.contextmanager
def _interruptible() -> Any:
    """Let SIGINT through only while student code runs."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


def _describe(exc: BaseException) -> dict[str, str]:
    try:
        evalue = str(exc)[:500]
    except Exception:  # noqa: BLE001 - a student's __str__ may raise anything
        evalue = ""
    return {"ename": type(exc).__name__[:80], "evalue": evalue}


def run_cell(shell: Any, source: str) -> dict[str, Any]:
    sink = _CappedText(OUTPUT_KEPT)
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), _interruptible():
        try:
            result = shell.run_cell(source, store_history=False)
            error = result.error_before_exec or result.error_in_exec
        except KeyboardInterrupt as exc:
            error = exc
    reply: dict[str, Any] = {"status": "ok", "output": sink.getvalue()}
    if isinstance(error, KeyboardInterrupt):
        reply["status"] = "interrupted"
    elif error is not None:
        reply.update(status="error", **_describe(error))
    return reply


class CallbackError(Exception):
    """The trusted side could not evaluate a function it passed in (raised in student code)."""


class _Callback:
    """Stands for a function of the trusted side passed as an argument (``{"$t": "callable"}``).

    Calling it sends a ``callback`` frame with the encoded arguments over the
    reply channel and waits for the ``callback_result``: the function itself
    never crosses the boundary, only arguments and results do.
    """

    def __init__(self, index: int, link: tuple[int, int, Any]) -> None:
        self._index, self._link = index, link

    def __call__(self, *args: Any) -> Any:
        request_fd, reply_fd, request_id = self._link
        protocol.write_frame(reply_fd, {"id": request_id, "status": "callback",
                                        "fn": self._index,
                                        "args": [protocol.encode(a) for a in args]})
        answer = protocol.read_frame(request_fd, REQUEST_CAP)
        if answer.get("status") != "ok":
            raise CallbackError(str(answer.get("message", "the function could not be evaluated")))
        return protocol.decode(answer.get("value"))

    def __repr__(self) -> str:
        return "<function f>"


def decode_args(args: list[Any], link: tuple[int, int, Any] | None) -> list[Any]:
    """Decode a call's arguments; ``{"$t": "callable", "fn": i}`` becomes a ``_Callback``."""
    decoded = []
    for arg in args:
        if type(arg) is dict and arg.get("$t") == "callable" and link is not None:
            decoded.append(_Callback(int(arg.get("fn", -1)), link))
        else:
            decoded.append(protocol.decode(arg))
    return decoded


def call(shell: Any, name: str, args: list[Any], link: tuple[int, int, Any] | None = None,
         see_args: bool = False) -> dict[str, Any]:
    """Call ``name``; with ``see_args`` the reply also carries the arguments afterwards."""
    namespace = shell.user_ns
    if name not in namespace:
        return {"status": "missing"}
    function = namespace[name]
    if not callable(function):
        return {"status": "not_callable", "type": type(function).__name__[:80]}
    sink = _CappedText(0)
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), _interruptible():
        try:
            decoded = decode_args(args, link)
            value = function(*decoded)
            reply = {"status": "ok", "value": protocol.encode(value)}
            if see_args:
                reply["args"] = [protocol.encode(a) for a in decoded]
            return reply
        except KeyboardInterrupt:
            return {"status": "interrupted"}
        except BaseException as exc:  # noqa: BLE001 - SystemExit from student code too
            return {"status": "exception", **_describe(exc)}


def get(shell: Any, name: str) -> dict[str, Any]:
    if name not in shell.user_ns:
        return {"status": "missing"}
    with _interruptible():
        return {"status": "ok", "value": protocol.encode(shell.user_ns[name])}


def _requests(request_fd: int) -> Iterator[dict[str, Any]]:
    """Each request frame until the trusted side closes the channel."""
    while True:
        try:
            yield protocol.read_frame(request_fd, REQUEST_CAP)
        except EOFError:
            return


def serve(shell: Any, request_fd: int, reply_fd: int, ready_id: int) -> None:
    """Answer requests for one submission until told to exit or the channel closes."""
    protocol.write_frame(reply_fd, {"id": ready_id, "status": "ready"})
    for request in _requests(request_fd):
        op = request.get("op")
        try:
            if op == "run_cell":
                reply = run_cell(shell, str(request["source"]))
            elif op == "call":
                reply = call(shell, str(request["name"]), list(request["args"]),
                             (request_fd, reply_fd, request.get("id")),
                             bool(request.get("see_args")))
            elif op == "get":
                reply = get(shell, str(request["name"]))
            elif op == "exit":
                return
            else:
                reply = {"status": "bad_request"}
        except KeyboardInterrupt:
            reply = {"status": "interrupted"}
        except Exception as exc:  # noqa: BLE001 - report, keep serving
            reply = {"status": "worker_error", **_describe(exc)}
        protocol.write_frame(reply_fd, {"id": request.get("id"), **reply})


# ----------------------------------------------------------------------------- zygote

PR_SET_DUMPABLE = 4


def _preload() -> None:
    """Imports every submission would pay for; the zygote runs no student code."""
    for module in ("numpy", "matplotlib.pyplot"):
        with contextlib.suppress(Exception):
            __import__(module)


def _set_dumpable(flag: int) -> None:
    import ctypes

    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, flag, 0, 0, 0)


def _start_child(shell: Any, request_fd: int, reply_fd: int, ready_id: int) -> None:
    """In the forked child: fresh randomness, then serve one submission."""
    import random

    random.seed()
    with contextlib.suppress(Exception):
        import numpy

        numpy.random.seed()
    _set_dumpable(1)
    try:
        serve(shell, request_fd, reply_fd, ready_id)
    finally:
        os._exit(0)


def _exit_status(status: int) -> dict[str, int]:
    if os.WIFSIGNALED(status):
        return {"signal": os.WTERMSIG(status)}
    return {"code": os.waitstatus_to_exitcode(status)}


def _clean_up(scratch: list[str]) -> None:
    """Kill every other process of the sandbox, reap them, empty the scratch space."""
    if os.getpid() == 1:
        for _ in range(100):
            with contextlib.suppress(ProcessLookupError):
                os.kill(-1, signal.SIGKILL)  # from PID 1: every other process of the namespace
            try:
                while os.waitpid(-1, os.WNOHANG) != (0, 0):
                    pass
            except ChildProcessError:
                break
            time.sleep(0.001)
    else:  # no PID namespace (no bubblewrap): the rest of this session
        me, session = os.getpid(), os.getsid(0)
        for name in os.listdir("/proc"):
            if name.isdigit() and int(name) != me:
                with contextlib.suppress(OSError):
                    if os.getsid(int(name)) == session:
                        os.kill(int(name), signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG) != (0, 0):
                pass
    for folder in scratch:
        for entry in _entries(folder):
            with contextlib.suppress(OSError):
                if os.path.isdir(entry) and not os.path.islink(entry):
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    os.unlink(entry)  # a read-only public file is a mount point: stays
    with contextlib.suppress(Exception):
        subprocess.run(["ipcrm", "--all"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=5, check=False)


def _entries(folder: str) -> list[str]:
    with contextlib.suppress(OSError):
        return [os.path.join(folder, name) for name in os.listdir(folder)]
    return []


def zygote(request_fd: int, reply_fd: int, scratch: list[str], real_otter: bool) -> None:
    """Warm up, then fork one worker per ``fork`` request and clean up after each."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    _preload()
    shell = make_shell(real_otter)
    _set_dumpable(0)  # workers (same uid) cannot read or write this process's memory
    protocol.write_frame(reply_fd, {"id": 0, "status": "zygote-ready"})
    last_exit: dict[str, int] | None = None
    for request in _requests(request_fd):
        op = request.get("op")
        if op == "fork":
            child = os.fork()
            if child == 0:
                _start_child(shell, request_fd, reply_fd, request.get("id"))
            _, status = os.waitpid(child, 0)  # the worker owns the channel meanwhile
            last_exit = _exit_status(status)
            _clean_up(scratch)
        elif op == "cleanup":
            protocol.write_frame(reply_fd, {"id": request.get("id"), "token": request.get("token"),
                                            "status": "idle", "child": last_exit})
            last_exit = None
        elif op == "exit":
            return


if __name__ == "__main__":
    arguments = sys.argv[3:]
    scratch_dirs = arguments[arguments.index("--scratch") + 1] if "--scratch" in arguments else ""
    zygote(int(sys.argv[1]), int(sys.argv[2]), [d for d in scratch_dirs.split(":") if d],
           real_otter="--real-otter" in arguments)
    os._exit(0)
