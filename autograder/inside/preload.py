"""The libraries an assignment's zygote imports and warms before it forks (``--preload``).

An assignment's manifest names them (``preload = ["torch"]``); without any the
zygote stays the lean one (numpy, IPython, matplotlib). Each name is imported
once in the zygote, so every worker forks with it loaded; a library with an
entry in ``_WARM`` is also made safe to fork and warmed up (its first use paid
once, not per submission), and is reseeded in every worker.

PyTorch: forked children of a process whose OpenMP or inter-op pool has
started *hang*. So the zygote sets one intra-op and one inter-op thread before
any work, runs a tiny conv forward/backward/optimizer step (the first
operation costs seconds, once), and before *every* fork checks that torch
still says one thread each and that the zygote is a single OS thread
(``/proc/self/task``). A failure is never swallowed: the zygote reports it and
the sandbox does not start (``PreloadError``), or the fork is refused.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from typing import Any


class PreloadError(Exception):
    """A library could not be preloaded, warmed, or safely forked."""


def _os_threads() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 1  # no /proc: nothing to check with


def _torch_prepare(torch: Any) -> None:
    try:
        torch.set_num_threads(1)
        torch.set_num_interop_threads(1)
    except RuntimeError as exc:  # torch refuses once its pools have started
        raise PreloadError(f"torch: could not set one thread before any work: {exc}") from None
    _torch_warm_up(torch)


WARM_UP_ROUNDS = 2


def _torch_warm_up(torch: Any) -> None:
    """A tiny CNN's forward, backward and optimizer steps (Adam, SGD), an eval pass under
    no_grad, and the functional convolution with stride and padding: the first call of
    each pays its one-time set-up here, not in every worker."""
    nn, functional = torch.nn, torch.nn.functional
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Dropout(0.25), nn.Linear(4 * 4 * 4, 3))
    x, y = torch.rand(8, 1, 8, 8), torch.randint(0, 3, (8,))
    for optimizer in (torch.optim.Adam(model.parameters(), lr=1e-3),
                      torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)):
        for _ in range(WARM_UP_ROUNDS):
            loss = functional.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        logits = model(x).softmax(dim=1)
    w = torch.randn(2, 1, 3, 3, requires_grad=True)
    out = functional.conv2d(x, w, torch.zeros(2), stride=2, padding=1)
    out.backward(torch.ones_like(out))
    if not (bool(torch.isfinite(loss)) and bool(torch.isfinite(logits).all())
            and w.grad is not None and bool(torch.isfinite(w.grad).all())):
        raise PreloadError("torch: the warm-up step gave non-finite values")


def _torch_check(torch: Any) -> str | None:
    threads, interop = torch.get_num_threads(), torch.get_num_interop_threads()
    if threads != 1 or interop != 1:
        return (f"torch uses {threads} intra-op and {interop} inter-op threads; forked "
                "workers would hang (one each is required)")
    return None


def _torch_reseed(torch: Any) -> None:
    torch.seed()  # a fresh, non-deterministic seed per worker, as numpy.random.seed()


# name -> (make fork-safe and warm up, why forking is unsafe now or None, reseed a worker)
_WARM: dict[str, tuple[Callable[[Any], None], Callable[[Any], str | None],
                       Callable[[Any], None]]] = {
    "torch": (_torch_prepare, _torch_check, _torch_reseed),
}


def prepare(names: list[str]) -> None:
    """Import and warm each library (in the zygote, before any fork); PreloadError if not."""
    for name in names:
        try:
            module = importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - report what went wrong, never swallow it
            raise PreloadError(f"{name} could not be imported: {type(exc).__name__}: "
                               f"{str(exc)[:200]}") from None
        if name in _WARM:
            try:
                _WARM[name][0](module)
            except PreloadError:
                raise
            except Exception as exc:  # noqa: BLE001
                raise PreloadError(f"{name}: the warm-up failed: {type(exc).__name__}: "
                                   f"{str(exc)[:200]}") from None
    problem = fork_problem(names)
    if problem:
        raise PreloadError(problem)


def fork_problem(names: list[str]) -> str | None:
    """Why forking now would be unsafe (a library's threads), or None."""
    import sys

    for name in names:
        if name in _WARM and name in sys.modules:
            problem = _WARM[name][1](sys.modules[name])
            if problem:
                return problem
    if names and _os_threads() != 1:
        return f"the zygote runs {_os_threads()} threads; a forked worker could hang"
    return None


def reseed(names: list[str]) -> None:
    """In a fresh worker: new random seeds for each preloaded library that has them."""
    import sys

    for name in names:
        if name in _WARM and name in sys.modules:
            _WARM[name][2](sys.modules[name])
