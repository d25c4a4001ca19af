"""The zygote: the warm process that forks one worker per submission.

It is started by ``autograder.sandbox.box`` inside the sandbox, as
``python worker.py REQUEST_FD REPLY_FD --scratch DIRS``, next to copies of
``worker_serve.py`` (what a worker answers), ``protocol.py`` and the other
modules it imports. It imports what every submission needs, runs no student
code, and forks one child per submission; the child builds a world of its own
(``isolate``) and serves the trusted side's requests (``worker_serve``). After
each child the zygote kills every other process of the sandbox and empties the
scratch folders.
It imports nothing else of the project: the graders, the reference solution
and the gradebook are not on this side of the boundary and are not visible in
the sandbox at all.

Everything a worker sends is a *claim*: the student controls that process and
can replace any of this code. The trusted side checks each reply.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import io
import json
import os
import signal
import stat
import subprocess
import sys
import time
from typing import Any

import isolate  # the copies next to this file, not the package modules
import kernel_shell
import preload
import protocol
import transform_cache
import worker_serve


def make_shell(real_otter: bool = False) -> Any:
    """A shell with Jupyter's semantics (``kernel_shell``); shell escapes are skipped with a note.

    Unless ``real_otter`` (the student's own ``check``), ``otter`` is a stub.
    """
    shell = kernel_shell.make_shell()
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

PR_SET_DUMPABLE = 4


WARM_UP = """\
import matplotlib.pyplot as _plt, numpy as _np
_fig, _axes = _plt.subplots(2, 2, figsize=(4, 3))
for _ax in _axes.flat:
    _ax.imshow(_np.zeros((4, 4)), cmap="gray_r")
    _ax.set_title("t", fontsize=9, color="red")
    _ax.axis("off")
_axes[0, 0].plot([0, 1], [0, 1], label="a")
_axes[0, 0].legend()
_fig.tight_layout()
_plt.close("all")
del _plt, _np, _fig, _axes, _ax
"""


def _warm_up(shell: Any) -> None:
    """Pay once, in the zygote, what every worker's first cells would pay again: IPython's
    first cell, and matplotlib's first figure (colormaps, fonts, text layout caches).
    Our own code, run before any submission; then the heap is frozen (``gc.freeze``), so
    the workers' garbage collections never walk, and copy, the zygote's objects."""
    with contextlib.suppress(Exception), contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        shell.run_cell(WARM_UP, store_history=False)
    kernel_shell.take_notes()
    gc.collect()
    gc.freeze()


def _set_dumpable(flag: int) -> None:
    import ctypes

    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, flag, 0, 0, 0)


def _cap_processes(extra: int) -> None:
    """RLIMIT_NPROC counts every process of this uid: allow ``extra`` more than it has now."""
    import resource

    mine = 0
    for name in os.listdir("/proc"):
        with contextlib.suppress(OSError):
            if name.isdigit() and os.stat(f"/proc/{name}").st_uid == os.getuid():
                mine += len(os.listdir(f"/proc/{name}/task"))
    resource.setrlimit(resource.RLIMIT_NPROC, (mine + extra, mine + extra))


def _start_child(shell: Any, request_fd: int, reply_fd: int, ready_id: int,
                 world: dict[str, Any], home: Any = None) -> None:
    """In the forked child: a world of its own (``isolate``), fresh randomness, then serve."""
    import random

    _set_dumpable(1)  # /proc/self of this process is its own again (uid_map, gid_map)
    try:
        if world["fresh"]:
            isolate.fresh_world(world["home"], world["scratch_bytes"], world["seccomp"])
        else:
            if type(home) is str:  # no bubblewrap: a fresh folder from the trusted side
                import tempfile

                os.chdir(home)
                os.environ["HOME"] = home
                os.environ["TMPDIR"] = tempfile.tempdir = os.path.join(home, "tmp")
            if world.get("private") and type(home) is str:  # not root: see ``private_world``
                isolate.private_world(home, world["scratch_bytes"], world["seccomp"],
                                      world["processes"], world["hide"])
            else:
                if world.get("processes"):  # not root, no namespaces: the user's count + ours
                    _cap_processes(world["processes"])
                isolate.confine(world["seccomp"])
    except BaseException as exc:  # noqa: BLE001 - never serve half-confined
        with contextlib.suppress(Exception):
            protocol.write_frame(reply_fd, {"id": ready_id, "status": "isolation-failed",
                                            "reason": str(exc)[:300]})
        os._exit(3)
    random.seed()
    with contextlib.suppress(Exception):
        import numpy

        numpy.random.seed()
    preload.reseed(world["preload"])
    try:
        worker_serve.serve(shell, request_fd, reply_fd, ready_id)
    finally:
        os._exit(0)


def _exit_status(status: int) -> dict[str, int]:
    if os.WIFSIGNALED(status):
        return {"signal": os.WTERMSIG(status)}
    return {"code": os.waitstatus_to_exitcode(status)}


def _clean_up(scratch: list[str], sweep_uid: bool = False) -> None:
    """Kill every other process of the sandbox and reap them.

    With fresh worlds (``isolate``) that is all: the worker's scratch mounts and
    IPC namespace die with its last process. Only where the kernel refuses them
    are the shared scratch folders emptied (``scratch``) and SysV IPC removed.
    Without bubblewrap, with a uid of the sandbox's own (``sweep_uid``), ``scratch``
    is the machine's shared scratch folders: what this uid may delete there (the sticky
    bit: only its own files) is what its workers left.
    """
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
    elif sweep_uid and os.getuid() != 0:  # no bubblewrap, a uid of the sandbox's own
        with contextlib.suppress(ProcessLookupError):
            os.kill(-1, signal.SIGKILL)  # every process of this uid but this one
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, 0):
                pass
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
    if not scratch:
        return
    for folder in scratch:
        with contextlib.suppress(OSError):
            device = os.lstat(folder).st_dev
            for entry in _entries(folder):
                _remove(entry, device)
    with contextlib.suppress(Exception):
        subprocess.run(["ipcrm", "--all"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=5, check=False)


def _entries(folder: str) -> list[str]:
    with contextlib.suppress(OSError):
        return [os.path.join(folder, name) for name in os.listdir(folder)]
    return []


def _remove(top: str, device: int) -> None:
    """Delete ``top`` without ever entering another file system (a read-only bind
    mount of the venv or a public file stays untouched); unreadable folders are
    opened up first. Iterative: a very deep tree cannot exhaust the stack."""
    stack = [(top, False)]
    while stack:
        path, emptied = stack.pop()
        try:
            info = os.lstat(path)
            if info.st_dev != device:
                continue  # a mount point: never walked, never deleted
            if not stat.S_ISDIR(info.st_mode):
                os.unlink(path)
            elif emptied:
                os.rmdir(path)
            else:
                os.chmod(path, 0o700)
                stack.append((path, True))
                stack.extend((os.path.join(path, name), False) for name in os.listdir(path))
        except OSError:
            continue


def _world(home: str, scratch_bytes: int, seccomp_fd: int | None) -> dict[str, Any]:
    """What each child needs to build its own world (read once, before any child)."""
    seccomp = None
    if seccomp_fd is not None:
        with os.fdopen(seccomp_fd, "rb") as handle:
            seccomp = handle.read()
    problem = "no sandbox home"
    if os.path.isdir(home):
        with contextlib.suppress(OSError):
            os.makedirs(isolate.STAGE, exist_ok=True)
        problem = isolate.probe(home, scratch_bytes, seccomp)
    return {"fresh": problem is None, "problem": problem, "home": home,
            "scratch_bytes": scratch_bytes, "seccomp": seccomp, "preload": []}


def zygote(request_fd: int, reply_fd: int, scratch: list[str], real_otter: bool,
           world: dict[str, Any], sweep_uid: bool = False) -> None:
    """Warm up, then fork one worker per ``fork`` request and clean up after each."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    kernel_shell.preload()  # the zygote runs no student code
    try:
        preload.prepare(world["preload"])  # the assignment's libraries (e.g. torch), warmed
    except preload.PreloadError as exc:
        protocol.write_frame(reply_fd, {"id": 0, "status": "zygote-failed",
                                        "reason": f"preloading failed: {exc}"[:400]})
        return
    shell = make_shell(real_otter)
    _warm_up(shell)
    transforms = transform_cache.install(shell)
    _set_dumpable(0)  # workers (same uid) cannot read or write this process's memory
    if world["fresh"]:
        scratch = []  # nothing is shared: each worker's scratch dies with it
    protocol.write_frame(reply_fd, {"id": 0, "status": "zygote-ready", "fresh": world["fresh"],
                                    "private": world.get("private"), "problem": world["problem"]})
    last_exit: dict[str, int] | None = None
    for request in worker_serve.requests(request_fd):
        op = request.get("op")
        if op == "fork":
            problem = preload.fork_problem(world["preload"])
            if problem:  # checked before every fork: a child of a threaded zygote may hang
                protocol.write_frame(reply_fd, {"id": request.get("id"), "status": "fork-refused",
                                                "reason": problem[:300]})
                continue
            child = os.fork()
            if child == 0:
                _start_child(shell, request_fd, reply_fd, request.get("id"), world,
                             request.get("home"))
            _, status = os.waitpid(child, 0)  # the worker owns the channel meanwhile
            last_exit = _exit_status(status)
            _clean_up(scratch, sweep_uid)
        elif op == "remember":  # the assignment's own cells, from the trusted side
            transforms.remember(request.get("cells"))
            gc.freeze()
        elif op == "cleanup":
            protocol.write_frame(reply_fd, {"id": request.get("id"), "token": request.get("token"),
                                            "status": "idle", "child": last_exit})
            last_exit = None
        elif op == "exit":
            return


def _option(arguments: list[str], name: str) -> str | None:
    return arguments[arguments.index(name) + 1] if name in arguments else None


if __name__ == "__main__":
    arguments = sys.argv[3:]
    scratch_dirs = [d for d in (_option(arguments, "--scratch") or "").split(":") if d]
    filter_fd = _option(arguments, "--seccomp")
    home_dir = _option(arguments, "--home")
    zygote_world = _world(home_dir or "", int(_option(arguments, "--scratch-bytes") or 1 << 26),
                          int(filter_fd) if filter_fd else None)
    zygote_world["preload"] = [n for n in (_option(arguments, "--preload") or "").split(",") if n]
    if home_dir is None:  # no bubblewrap: the trusted side gives each worker a fresh folder
        zygote_world.update(fresh=False, problem=None)
        private = _option(arguments, "--private")  # not root: that folder, to probe with
        if private is not None:
            zygote_world["processes"] = int(_option(arguments, "--processes") or 32)
            zygote_world["hide"] = tuple(json.loads(_option(arguments, "--hide") or "[]"))
            problem = isolate.probe(private, zygote_world["scratch_bytes"],
                                    zygote_world["seccomp"], functools.partial(
                                        isolate.private_world, processes=zygote_world["processes"],
                                        hide=zygote_world["hide"]))
            zygote_world.update(private=problem is None, problem=problem)
    zygote(int(sys.argv[1]), int(sys.argv[2]), scratch_dirs, "--real-otter" in arguments,
           zygote_world, "--sweep-uid" in arguments)
    os._exit(0)
