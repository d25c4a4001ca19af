"""A student's notebook, running in a sandboxed worker, as graders see it.

``StudentSession`` runs the notebook's cells once, then answers the graders'
``call``, ``call_each`` (many calls, one round trip) and ``get`` requests. It
turns everything that can go wrong on the student's side into a
``StudentError`` with student-safe feedback, and keeps going: a cell that
hangs is interrupted and the next cell runs; a call that kills the worker
costs that call only, because the next call starts a fresh worker and replays
the cells that ran. ``Limits.restarts`` bounds restarts in
a row that fail (the worker does not come up, or dies replaying the cells);
the submission's total time bounds everything else.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from ..errors import (
    BadReply,
    StudentTimeout,
    WorkerDied,
)
from ..inside import protocol
from ..intake.notebook import Cell
from ..sandbox.launch import Limits
from ..sandbox.warm import worker_for
from ..sandbox.worker_handle import Worker, WorkerGone, WorkerTimeout
from ..toolkit.tensors import ModuleData, ModuleRun
from .cells import DEMO, CellOutcome, cell_outcome
from .demos import DemoPlan, plan
from .replies import MAX_CALLBACKS, Callbacks, value_of

MAX_BATCH = 10_000  # calls in one call_each


@dataclass
class StudentSession:
    """The graders' handle on one running submission (the ``student`` fixture)."""

    cells: tuple[Cell, ...]
    public_files: list[Path]
    limits: Limits = field(default_factory=Limits)
    uid: int | None = None
    real_otter: bool = False
    outcomes: list[CellOutcome] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # the sandbox's weaknesses: TA-only
    budgets: dict[str, float] = field(default_factory=dict)
    max_callbacks: int = MAX_CALLBACKS
    common_cells: tuple[str, ...] = ()  # the assignment's own cells (``transform_cache``)
    preload: tuple[str, ...] = ()  # libraries the zygote imports and warms (manifest ``preload``)
    demo_cells: frozenset[str] = frozenset()  # the skeleton's demonstrations (``demos``)
    restarts: int = 0
    timed_out: bool = False
    _failed_restarts: int = 0  # failed restarts in a row
    _worker: Worker | None = None
    _deadline: float = 0.0
    _demos: DemoPlan = field(default_factory=lambda: DemoPlan({}))

    # ------------------------------------------------------------------ cells

    def start(self) -> list[CellOutcome]:
        """Start the worker and run every cell once, in order, as Jupyter would; except the
        unchanged demonstrations nothing needs (``demos.plan``), recorded as skipped."""
        self._deadline = time.monotonic() + self.limits.submission_seconds
        self._worker = self._new_worker()
        self._demos = plan([cell.source for cell in self.cells], self.demo_cells)
        for n, cell in enumerate(self.cells):
            if n in self._demos.skipped:
                self.outcomes.append(CellOutcome(cell.index, "skipped", evalue=DEMO))
            else:
                self.outcomes.append(self._run_cell(cell))
        return self.outcomes

    def _run_demos(self) -> None:
        """A grader asked for a name a skipped demonstration binds: the notebook again from
        the start in a fresh worker, this time with every cell (their outcomes recorded)."""
        skipped, self._demos = self._demos.skipped, DemoPlan({})
        for n in skipped:
            self.outcomes[n] = CellOutcome(self.cells[n].index, "skipped",
                                           evalue="the notebook's process did not restart")
        if self._worker is not None:
            self._worker.close()
            self._worker = None
        try:
            self._worker = self._new_worker()
        except WorkerGone:
            return
        for n, cell in enumerate(self.cells):
            if n in skipped:
                self.outcomes[n] = self._run_cell(cell)
            elif self.outcomes[n].status in ("ok", "error"):
                self._replay(cell)
            if self._worker is None or not self._worker.alive:
                return

    def _new_worker(self) -> Worker:
        worker = worker_for(self.public_files, self.limits, self.uid, real_otter=self.real_otter,
                            common_cells=self.common_cells, preload=self.preload)
        for weakness in worker.weaknesses:
            note = f"SANDBOX WEAKENED: {weakness}"
            if note not in self.warnings:
                self.warnings.append(note)
        return worker

    def run_extra(self, cell: Cell) -> CellOutcome:
        """Run one more cell after the notebook's own (e.g. a public check)."""
        return self._run_cell(cell)

    def _run_cell(self, cell: Cell) -> CellOutcome:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            self.timed_out = True
            return CellOutcome(cell.index, "skipped", evalue="the notebook's total time ran out")
        if not self._ensure_worker():
            return CellOutcome(cell.index, "skipped", evalue="the notebook's process kept dying")
        assert self._worker is not None
        seconds = min(self.limits.cell_seconds, remaining)
        try:
            reply = self._worker.request({"op": "run_cell", "source": cell.source}, seconds)
        except WorkerTimeout:
            return CellOutcome(cell.index, "interrupted")
        except WorkerGone as exc:
            status = "interrupted" if exc.timed_out else "killed"
            return CellOutcome(cell.index, status, evalue=exc.reason)
        return cell_outcome(cell.index, reply)

    def _ensure_worker(self) -> bool:
        """A live worker, restarted (cells replayed) if the last one died; False if impossible."""
        return (self._worker is not None and self._worker.alive) or self._restart()

    def _restart(self) -> bool:
        """A fresh worker with the cells that completed before replayed; False if out of tries."""
        if self._worker is not None:
            self._worker.close()
            self._worker = None
        if self._failed_restarts >= self.limits.restarts:
            return False
        self.restarts += 1
        self._failed_restarts += 1
        try:
            self._worker = self._new_worker()
        except WorkerGone:
            return False
        done = {o.index for o in self.outcomes if o.status in ("ok", "error")}
        for cell in self.cells:
            if cell.index in done and not self._replay(cell):
                return self._worker.alive and self._deadline > time.monotonic()
        self._failed_restarts = 0  # this restart worked; only failing restarts use the budget
        return True

    def _replay(self, cell: Cell) -> bool:
        """Run a cell that ran before again (its outcome is known); False: time ran out,
        or the cell did not finish."""
        assert self._worker is not None
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            return False
        try:
            self._worker.request({"op": "run_cell", "source": cell.source},
                                 min(self.limits.cell_seconds, remaining))
        except (WorkerTimeout, WorkerGone):
            return False
        return True

    # ------------------------------------------------------------------ calls

    def call(self, name: str, *args: Any, timeout: float | None = None,
             budget: str | None = None) -> Any:
        """Call the student's function ``name``; return its decoded result.

        The call may take ``timeout`` seconds, or the assignment's named
        ``budget``, or ``Limits.call_seconds``. A trusted function among
        ``args`` is passed as a proxy (see ``Callbacks``).
        """
        return self._call(name, args, timeout, budget, see_args=False)[0]

    def call_seeing_args(self, name: str, *args: Any, timeout: float | None = None,
                         budget: str | None = None) -> tuple[Any, tuple[Any, ...]]:
        """Like ``call``; also the arguments as the student's function left them.

        For grading "must not modify its input": compare them with the originals.
        """
        return self._call(name, args, timeout, budget, see_args=True)

    def _call(self, name: str, args: tuple[Any, ...], timeout: float | None, budget: str | None,
              see_args: bool, given: dict[str, Callable[..., Any]] | None = None,
              ) -> tuple[Any, tuple[Any, ...]]:
        callbacks = Callbacks(self.max_callbacks)
        message = {"op": "call", "name": name, "args": [callbacks.encode(a) for a in args],
                   "see_args": see_args}
        if given:
            bound = {key: callbacks.encode(function, dependency=True)
                     for key, function in given.items()}
            if not all(type(v) is dict and v.get("$t") == "callable" for v in bound.values()):
                raise TypeError("call_given binds functions only")
            message["given"] = bound
        seconds = self._seconds(timeout, budget)
        reply = self._ask(name, message, seconds, callbacks.answer if callbacks else None)
        value = value_of(name, reply)
        if not see_args:
            return value, ()
        after = reply.get("args")
        if type(after) is not list or len(after) != len(args):
            raise BadReply(f"the notebook's process did not report the arguments of `{name}`")
        try:
            return value, tuple(protocol.decode(a) for a in after)
        except (protocol.ProtocolError, ValueError, TypeError, RecursionError) as exc:
            raise BadReply(f"the arguments of `{name}` could not be read: {exc}") from None

    def call_given(self, name: str, *args: Any, given: dict[str, Callable[..., Any]],
                   see_args: bool = False, timeout: float | None = None,
                   budget: str | None = None) -> tuple[Any, tuple[Any, ...]]:
        """``call_seeing_args`` (or ``call`` when not ``see_args``: the arguments are ``()``)
        with each trusted function of ``given`` bound under its name in the notebook's
        globals for the duration of this one call, then the notebook's own value restored.

        For charging a mistake once (``pytest_plugin``): the student's ``neural_network``
        called with a correct ``sigmoid``. Like a function argument of ``call``, each is
        a proxy: only its arguments and results cross the boundary (``Callbacks``: a
        dependency takes arrays within the call's own size).
        """
        return self._call(name, args, timeout, budget, see_args, given)

    def call_each(self, name: str, calls: Iterable[Sequence[Any]], *,
                  timeout: float | None = None, budget: str | None = None) -> Iterator[Any]:
        """``call(name, *args)`` for each ``args`` in ``calls``, in one round trip to the worker.

        Yields the results in order; at the item whose call raised (or returned what
        cannot be read), raises what ``call`` would have raised. The calls run in order
        and stop at the first that raises; every call before it has run, so a check that
        fails on item k does not stop items after k from having run. The time limit is
        ``call``'s for one call times the number of calls. Arguments cannot be functions
        (``call`` passes those as proxies).
        """
        calls = [tuple(args) for args in calls]
        if not calls:
            return iter(())
        if len(calls) > MAX_BATCH:
            raise ValueError(f"call_each takes at most {MAX_BATCH} calls at a time")
        callbacks = Callbacks(0)  # ``call``'s rule for what is a function, to refuse it
        encoded = [[callbacks.encode(a) for a in args] for args in calls]
        if callbacks:
            raise TypeError("call_each cannot pass functions; use call")
        seconds = self._seconds(timeout, budget)
        reply = self._ask(name, {"op": "call_each", "name": name, "calls": encoded},
                          seconds * len(calls), shown_seconds=seconds)
        if reply.get("status") != "ok":
            value_of(name, reply)  # raises: interrupted, or the worker's own error
        replies = reply.get("replies")
        if type(replies) is not list or not 0 < len(replies) <= len(calls) or \
                any(type(r) is not dict for r in replies) or \
                (len(replies) < len(calls) and replies[-1].get("status") == "ok"):
            raise BadReply(f"the notebook's process gave an unexpected answer for `{name}`")
        return (value_of(name, r) for r in replies)

    def _seconds(self, timeout: float | None, budget: str | None) -> float:
        """One call's time limit: ``timeout``, else the named budget, else the default."""
        return timeout or (self.budgets[budget] if budget else self.limits.call_seconds)

    # ------------------------------------------------------------------ torch

    def call_backward(self, name: str, *args: Any, upstream: Any = None,
                      timeout: float | None = None,
                      budget: str | None = None) -> tuple[Any, tuple[Any, ...]]:
        """In the worker, ``out = name(*args)`` then ``out.backward(upstream)``.

        Returns ``(out, grads)``: ``grads`` has one entry per positional argument, its
        ``.grad`` if it was a tensor requiring grad, else None. ``upstream`` None:
        ``out`` must be a scalar. Tensors cross as data (``torch_wire``).
        """
        message = {"op": "call_backward", "name": name, "args": [protocol.encode(a) for a in args],
                   "upstream": protocol.encode(upstream)}
        reply = self._ask(name, message, self._seconds(timeout, budget))
        out = value_of(name, reply)
        grads = reply.get("grads")
        if type(grads) is not list or len(grads) != len(args):
            raise BadReply(f"the notebook's process did not report the gradients of `{name}`")
        try:
            return out, tuple(protocol.decode(g) for g in grads)
        except (protocol.ProtocolError, ValueError, TypeError, RecursionError) as exc:
            raise BadReply(f"the gradients of `{name}` could not be read: {exc}") from None

    def run_module(self, class_name: str, init_args: Sequence[Any] = (),
                   inputs: Sequence[Any] = (), mode: str = "eval", *,
                   timeout: float | None = None, budget: str | None = None) -> ModuleRun:
        """In the worker, ``module = class_name(*init_args)``, ``module.eval()`` (or
        ``.train()`` for ``mode="train"``), ``output = module(*inputs)`` under
        ``torch.no_grad()``; returns ``ModuleRun(module as ModuleData, output)``."""
        if mode not in ("eval", "train"):
            raise ValueError(f"mode is 'eval' or 'train', not {mode!r}")
        message = {"op": "run_module", "name": class_name, "mode": mode,
                   "init_args": [protocol.encode(a) for a in init_args],
                   "inputs": [protocol.encode(a) for a in inputs]}
        value = value_of(class_name, self._ask(class_name, message,
                                               self._seconds(timeout, budget)))
        if type(value) is not tuple or len(value) != 2 or type(value[0]) is not ModuleData:
            raise BadReply(f"the notebook's process gave an unexpected answer for `{class_name}`")
        return ModuleRun(value[0], value[1])

    def get(self, name: str) -> Any:
        """The decoded value of the student's global variable ``name``."""
        return value_of(name, self._ask(name, {"op": "get", "name": name},
                                         self.limits.call_seconds))

    def _ask(self, name: str, message: dict[str, Any], seconds: float,
             on_callback: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
             shown_seconds: float | None = None) -> dict[str, Any]:
        """``shown_seconds``: the one call's limit a timeout names (``call_each``)."""
        if self._demos.needs(name):
            self._run_demos()
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            self.timed_out = True
            raise StudentTimeout("the notebook used up its total time limit before this check")
        if not self._ensure_worker():
            raise WorkerDied(f"`{name}` could not be checked: the notebook's process kept dying")
        assert self._worker is not None
        seconds = min(seconds, remaining)
        shown = min(seconds, shown_seconds or seconds)
        try:
            return self._worker.request(message, seconds, on_callback)
        except WorkerTimeout:
            raise StudentTimeout.for_call(name, shown) from None
        except WorkerGone as exc:
            if exc.timed_out:
                raise StudentTimeout(f"`{name}` did not return within {shown:g} s and did "
                                     "not stop when interrupted") from None
            raise WorkerDied(f"calling `{name}` stopped the notebook's process: {exc.reason}") from None

    def output(self) -> str:
        if self._worker is None:
            return ""
        return self._worker.output.decode(errors="replace")

    def close(self) -> None:
        """The submission is done: its worker is killed; the sandbox cleans up after it
        before the next one starts (``Worker.release``)."""
        if self._worker is not None:
            self._worker.release()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
