"""Charging a mistake once: a graded function tried again with correct versions of the
graded functions it calls.

The manifest's ``[dependencies]`` says which graded functions call which
(``neural_network = ["sigmoid"]``). When a hidden test that called such a function
fails, ``GradingPlugin`` runs it once more with ``GivenReferences`` as its ``student``
and the same inputs (the same ``rng``): every call of ``neural_network`` then runs
with the *reference* ``sigmoid`` bound under the name ``sigmoid`` in the notebook's
globals for that call (``StudentSession.call_given``; the reference function stays on
the trusted side, a proxy asks for each value). What counts (docs/grading-policy.md):

* the second run passes: the test passes; the mistake is the dependency's, charged
  by the dependency's own tests;
* it earns more partial credit than the first: that credit, with the first failure
  named;
* else the first run's failure stands, and its message says a correct dependency
  did not help (the mistake is the function's own).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from types import ModuleType
from typing import Any

from ..errors import StudentError, StudentTimeout, WorkerDied
from ..toolkit.checks import GradingFailure, PartialCredit


class Recording:
    """The ``student`` of a first run: the session, noting which functions were called."""

    def __init__(self, student: Any) -> None:
        self._student = student
        self.called: set[str] = set()

    def call(self, name: str, *args: Any, **options: Any) -> Any:
        self.called.add(name)
        return self._student.call(name, *args, **options)

    def call_seeing_args(self, name: str, *args: Any, **options: Any) -> Any:
        self.called.add(name)
        return self._student.call_seeing_args(name, *args, **options)

    def call_each(self, name: str, calls: Iterable[Sequence[Any]], **options: Any) -> Any:
        self.called.add(name)
        return self._student.call_each(name, calls, **options)

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._student, attribute)


class GivenReferences:
    """The ``student`` of a second run: calls of a function with dependencies run with the
    reference versions of them bound in the notebook (``StudentSession.call_given``)."""

    def __init__(self, student: Any, given: dict[str, dict[str, Callable[..., Any]]]) -> None:
        self._student = student
        self._given = given

    def call(self, name: str, *args: Any, timeout: float | None = None,
             budget: str | None = None) -> Any:
        if name not in self._given:
            return self._student.call(name, *args, timeout=timeout, budget=budget)
        return self._student.call_given(name, *args, given=self._given[name], timeout=timeout,
                                        budget=budget)[0]

    def call_seeing_args(self, name: str, *args: Any, timeout: float | None = None,
                         budget: str | None = None) -> Any:
        if name not in self._given:
            return self._student.call_seeing_args(name, *args, timeout=timeout, budget=budget)
        return self._student.call_given(name, *args, given=self._given[name], see_args=True,
                                        timeout=timeout, budget=budget)

    def call_each(self, name: str, calls: Iterable[Sequence[Any]], *,
                  timeout: float | None = None, budget: str | None = None) -> Iterator[Any]:
        if name not in self._given:
            each: Iterator[Any] = self._student.call_each(name, calls, timeout=timeout,
                                                          budget=budget)
            return each
        cases = [tuple(args) for args in calls]
        return (self.call(name, *args, timeout=timeout, budget=budget) for args in cases)

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._student, attribute)


def references_for(called: set[str], dependencies: dict[str, tuple[str, ...]],
                   reference: ModuleType) -> dict[str, dict[str, Callable[..., Any]]]:
    """For each called function that has dependencies: its dependencies' reference versions."""
    return {name: {dep: getattr(reference, dep) for dep in dependencies[name]
                   if callable(getattr(reference, dep, None))}
            for name in sorted(called) if name in dependencies}


def worth_trying(exc: BaseException) -> bool:
    """A failure a correct dependency might explain (not a timeout or a dead process: trying
    again would cost the same time again)."""
    return isinstance(exc, GradingFailure | StudentError) and not isinstance(
        exc, StudentTimeout | WorkerDied)


def fraction(exc: BaseException | None) -> float:
    if exc is None:
        return 1.0
    return exc.fraction if isinstance(exc, PartialCredit) else 0.0


def names(given: dict[str, dict[str, Callable[..., Any]]]) -> str:
    shown = sorted({dep for deps in given.values() for dep in deps})
    return " and ".join(f"`{name}`" for name in shown)


def amended(exc: BaseException, suffix: str) -> BaseException:
    """``exc`` with ``suffix`` added to the message the student reads."""
    if isinstance(exc, StudentError):
        exc.feedback = exc.feedback + suffix
        exc.args = (exc.feedback,)
    elif isinstance(exc, GradingFailure):
        exc.args = (f"{exc}{suffix}",)
    return exc
