"""One warm sandbox per grading process, reused from submission to submission.

``worker_for`` returns a fresh worker from the process's sandbox for the given
files and limits, starting (or restarting) the sandbox when needed; the sandboxes
are closed when the process exits, whether it is a plain process or a pool worker.
``start_early`` starts that sandbox before it is asked for (a grading process's
first thing, while it imports the graders).
"""

from __future__ import annotations

import atexit
import functools
import multiprocessing.util
import os
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import NamedTuple

from .box import Sandbox
from .launch import Limits
from .worker_handle import Worker, WorkerGone


class _Key(NamedTuple):
    """What a warm sandbox is for: ``worker_for``'s and ``start_early``'s arguments."""

    public_files: tuple[Path, ...]
    limits: Limits
    uid: int | None
    real_otter: bool
    common_cells: tuple[str, ...]
    preload: tuple[str, ...]

    def start(self) -> Sandbox:
        return Sandbox(list(self.public_files), self.limits, self.uid,
                       real_otter=self.real_otter, common_cells=self.common_cells,
                       preload=self.preload)


_SANDBOXES: dict[_Key, Sandbox] = {}
_EARLY: dict[_Key, Future[Sandbox]] = {}  # being started by ``start_early``
_FOREVER = threading.Event()  # never set


def worker_for(public_files: list[Path], limits: Limits, uid: int | None = None, *,
               real_otter: bool = False, common_cells: tuple[str, ...] = (),
               preload: tuple[str, ...] = ()) -> Worker:
    """A fresh worker from this process's warm sandbox for these files and limits;
    ``common_cells``: trusted text most submissions repeat (see ``transform_cache``);
    ``preload``: the libraries its zygote imports and warms (one sandbox per set)."""
    key = _Key(tuple(public_files), limits, uid, real_otter, common_cells, preload)
    _take_early(key)
    sandbox = _SANDBOXES.get(key)
    if sandbox is None or not sandbox.alive:
        if sandbox is not None:
            sandbox.close()
        close_sandboxes()  # one warm sandbox per grading process
        _close_at_exit(os.getpid())
        sandbox = _SANDBOXES[key] = key.start()
    try:
        return sandbox.spawn()
    except WorkerGone:
        _SANDBOXES.pop(key, None)
        sandbox = _SANDBOXES[key] = key.start()
        return sandbox.spawn()


def start_early(public_files: list[Path], limits: Limits, uid: int | None = None, *,
                real_otter: bool = False, common_cells: tuple[str, ...] = (),
                preload: tuple[str, ...] = ()) -> None:
    """Start, in a thread, the sandbox ``worker_for`` will want with these arguments, and
    return at once: a grading process calls this first, so the zygote boots (most of a
    second) while the process imports the graders. ``worker_for`` waits for it; a
    sandbox that failed to start is started again there (and fails there, if it must).
    The thread then waits for the process's end: the kernel kills the sandbox when the
    *thread* that started it ends (PR_SET_PDEATHSIG, bubblewrap's ``--die-with-parent``)."""
    key = _Key(tuple(public_files), limits, uid, real_otter, common_cells, preload)
    if key in _SANDBOXES or key in _EARLY:
        return
    _close_at_exit(os.getpid())
    future: Future[Sandbox] = Future()

    def start() -> None:
        try:
            future.set_result(key.start())
        except BaseException as exc:  # noqa: BLE001 - handed to worker_for
            future.set_exception(exc)
            return
        _FOREVER.wait()  # bwrap's --die-with-parent is tied to the thread that started it

    _EARLY[key] = future
    threading.Thread(target=start, name="autograder-early-sandbox", daemon=True).start()


def _take_early(key: _Key | None) -> None:
    """Wait for the sandboxes started early: the one for ``key`` becomes the warm one,
    any other is closed."""
    early = dict(_EARLY)
    _EARLY.clear()
    for early_key, future in early.items():
        try:
            sandbox = future.result()
        except Exception:  # noqa: BLE001, S112 - worker_for starts it again, and says why
            continue
        if early_key == key and key not in _SANDBOXES:
            for other in _SANDBOXES.values():
                other.close()
            _SANDBOXES.clear()
            _SANDBOXES[key] = sandbox
        else:
            sandbox.close()


def close_sandboxes() -> None:
    _take_early(None)
    for sandbox in _SANDBOXES.values():
        sandbox.close()
    _SANDBOXES.clear()


@functools.cache
def _close_at_exit(pid: int) -> None:
    """Close this process's sandboxes when it exits: atexit for a plain process, a
    multiprocessing finalizer for a pool worker (which skips atexit and clears the
    finalizers it inherited, so this is registered in the process itself)."""
    atexit.register(close_sandboxes)
    multiprocessing.util.Finalize(None, close_sandboxes, exitpriority=10)
