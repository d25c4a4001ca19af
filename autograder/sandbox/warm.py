"""One warm sandbox per grading process, reused from submission to submission.

``worker_for`` returns a fresh worker from the process's sandbox for the given
files and limits, starting (or restarting) the sandbox when needed; the sandboxes
are closed when the process exits, whether it is a plain process or a pool worker.
"""

from __future__ import annotations

import atexit
import functools
import multiprocessing.util
import os
from pathlib import Path
from typing import Any

from .box import Sandbox
from .launch import Limits
from .worker_handle import Worker, WorkerGone

_SANDBOXES: dict[tuple[Any, ...], Sandbox] = {}


def worker_for(public_files: list[Path], limits: Limits, uid: int | None = None, *,
               real_otter: bool = False, common_cells: tuple[str, ...] = (),
               preload: tuple[str, ...] = ()) -> Worker:
    """A fresh worker from this process's warm sandbox for these files and limits;
    ``common_cells``: trusted text most submissions repeat (see ``transform_cache``);
    ``preload``: the libraries its zygote imports and warms (one sandbox per set)."""
    key = (tuple(public_files), limits, uid, real_otter, common_cells, preload)
    sandbox = _SANDBOXES.get(key)
    if sandbox is None or not sandbox.alive:
        if sandbox is not None:
            sandbox.close()
        for other in _SANDBOXES.values():  # one warm sandbox per grading process
            other.close()
        _SANDBOXES.clear()
        _close_at_exit(os.getpid())
        sandbox = _SANDBOXES[key] = Sandbox(public_files, limits, uid, real_otter=real_otter,
                                            common_cells=common_cells, preload=preload)
    try:
        return sandbox.spawn()
    except WorkerGone:
        _SANDBOXES.pop(key, None)
        sandbox = _SANDBOXES[key] = Sandbox(public_files, limits, uid, real_otter=real_otter,
                                            common_cells=common_cells, preload=preload)
        return sandbox.spawn()


def close_sandboxes() -> None:
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
