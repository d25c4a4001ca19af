"""The pytest plugin that runs hidden graders against one student session.

It is an object registered for one pytest session (``plugins=[...]``) that
grades many submissions, one pass over the collected tests each
(``grader_session``): it provides the ``student``, ``reference``, ``rng`` and
``assignment`` fixtures, registers the ``question`` marker, checks once that each
question's test points add up to the manifest's points, and records every test's
outcome with a student-safe message (a ``PartialCredit`` failure keeps its fraction
of the points). ``begin`` binds the next submission and clears what the
last one left (outcomes, internal errors, the TA log).

Only two kinds of failure message reach students: a ``GradingFailure`` raised
by ``autograder.toolkit.checks`` and a ``StudentError`` from the session. Anything else
(a bare ``assert`` with its values, a grader bug) is reported generically.
"""

from __future__ import annotations

import inspect
import zlib
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from ..errors import MissingName, StudentError
from ..gradebook.results import TestOutcome
from ..toolkit.checks import GradingFailure, PartialCredit
from . import dependencies

MARKER = "question"
INTERNAL = "the grader could not check this (an internal grader error; the TA has been told)"


class GradingPlugin:
    def __init__(self, student: Any, reference: ModuleType, seed: int,
                 questions: dict[str, float], assignment: Any = None) -> None:
        self._student = student
        self._assignment = assignment
        self._reference = reference
        self.seed = seed
        self.questions = questions
        self.problems: list[str] = []  # the grader file's, found once at collection
        self.items: dict[str, tuple[str, str, float]] = {}
        # per submission (``begin``)
        self.outcomes: dict[str, TestOutcome] = {}
        self.internal_errors: list[str] = []
        self.log: list[str] = []  # TA-only: the traceback of every failed test
        self.missing: dict[str, str] = {}  # test -> the name it found missing (``prose``)

    def begin(self, student: Any, seed: int) -> None:
        """Grade ``student`` with ``seed`` in the next pass; forget the last submission."""
        self._student = student
        self.seed = seed
        self.outcomes = {}
        self.internal_errors = []
        self.log = []
        self.missing = {}

    # ------------------------------------------------------------------ fixtures

    @pytest.fixture(scope="session")  # one per pass: all are torn down after it
    def student(self) -> Any:
        return self._student

    @pytest.fixture(scope="session")  # one per pass: all are torn down after it
    def reference(self) -> ModuleType:
        return self._reference

    @pytest.fixture(scope="session")  # one per pass: all are torn down after it
    def assignment(self) -> Any:
        """The ``catalog.Assignment`` being graded (its ``public_dir``, ``budgets``, ...)."""
        return self._assignment

    @pytest.fixture
    def rng(self, request: pytest.FixtureRequest) -> np.random.Generator:
        return self._rng(request.node.nodeid)

    def _rng(self, nodeid: str) -> np.random.Generator:
        return np.random.default_rng([self.seed, zlib.crc32(nodeid.encode())])

    # ------------------------------------------------------------------ hooks

    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", f"{MARKER}(qid, points): the question a test scores for")

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.problems.append(f"collecting {report.nodeid or 'the graders'} failed: "
                                 f"{report.longreprtext[-1500:]}")

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        totals = dict.fromkeys(self.questions, 0.0)
        for item in items:
            marks = list(item.iter_markers(MARKER))
            if len(marks) != 1:
                self.problems.append(f"{item.nodeid}: needs exactly one @{MARKER} marker")
                continue
            mark = marks[0]
            qid = mark.args[0] if mark.args else mark.kwargs.get("qid")
            points = mark.kwargs.get("points", mark.args[1] if len(mark.args) > 1 else None)
            if qid not in self.questions or not isinstance(points, int | float) or points <= 0:
                self.problems.append(f"{item.nodeid}: bad marker question={qid!r} points={points!r}")
                continue
            totals[qid] += points
            _brief_expected_failures(item)
            doc = (getattr(item, "obj", None).__doc__ or "").strip().splitlines()
            self.items[item.nodeid] = (doc[0] if doc else item.name, qid, float(points))
        for qid, total in totals.items():
            if abs(total - self.questions[qid]) > 1e-9:
                self.problems.append(f"question {qid!r}: tests add up to {total:g} points, "
                                     f"the manifest says {self.questions[qid]:g}")

    @pytest.hookimpl(tryfirst=True)
    def pytest_pyfunc_call(self, pyfuncitem: pytest.Function) -> bool | None:
        """Run the test; if it fails after calling a function with dependencies (the
        manifest's ``[dependencies]``), run it again with their reference versions bound
        (``dependencies``): a mistake is charged once, to the function that makes it."""
        graph = getattr(self._assignment, "dependencies", None) or {}
        if not graph or "student" not in pyfuncitem.funcargs:
            return None  # pytest's own call
        names = inspect.signature(pyfuncitem.obj).parameters
        args = {name: pyfuncitem.funcargs[name] for name in names}
        recording = dependencies.Recording(args["student"])
        try:
            pyfuncitem.obj(**{**args, "student": recording})
            return True
        except Exception as exc:  # noqa: BLE001 - judged below, re-raised unless retried
            first = exc
        given = dependencies.references_for(recording.called, graph, self._reference)
        if not given or not dependencies.worth_trying(first):
            raise first
        if "rng" in args:
            args["rng"] = self._rng(pyfuncitem.nodeid)  # the same inputs again
        second: BaseException | None = None
        try:
            pyfuncitem.obj(**{**args, "student": dependencies.GivenReferences(
                args["student"], given)})
        except Exception as exc:  # noqa: BLE001 - compared with the first run's failure
            second = exc
        which = dependencies.names(given)
        self.log.append(f"RETRIED {pyfuncitem.nodeid} with the reference {which}: "
                        f"{'passed' if second is None else type(second).__name__}; the "
                        f"first run: {type(first).__name__}: {str(first)[:300]}")
        if second is None:
            return True  # the mistake is the dependency's: charged by its own tests
        if not dependencies.worth_trying(second):  # timed out, or the graders' own error
            raise first
        if dependencies.fraction(second) > dependencies.fraction(first) and isinstance(
                second, PartialCredit):
            raise dependencies.amended(second, f" (with a correct {which}; with yours: {first})")
        raise dependencies.amended(first, f" (also with a correct {which}, so not because of "
                                          f"{which})") from None

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        report = yield
        if report.failed:
            self.log.append(f"FAILED {item.nodeid} ({call.when}):\n{report.longreprtext[-1200:]}")
        if item.nodeid not in self.items or call.when == "teardown" and report.passed:
            return report
        name, qid, points = self.items[item.nodeid]
        if call.when == "call" and report.passed:
            self.outcomes[item.nodeid] = TestOutcome(name, qid, points, True, "", call.duration)
        elif report.failed or report.skipped:
            feedback = self._feedback(item.nodeid, call)
            previous = self.outcomes.get(item.nodeid)
            if previous is None or previous.passed:
                exc = call.excinfo.value if call.excinfo else None
                partial = exc.fraction if isinstance(exc, PartialCredit) else 0.0
                self.outcomes[item.nodeid] = TestOutcome(name, qid, points, False, feedback,
                                                         call.duration, partial)
        return report

    def _feedback(self, nodeid: str, call: pytest.CallInfo[None]) -> str:
        exc = call.excinfo.value if call.excinfo else None
        if isinstance(exc, MissingName) and isinstance(exc.name, str):
            self.missing[nodeid] = exc.name
        if isinstance(exc, GradingFailure | StudentError):
            return str(exc.feedback if isinstance(exc, StudentError) else exc)
        if call.excinfo is not None and call.excinfo.errisinstance(pytest.skip.Exception):
            self.internal_errors.append(f"{nodeid}: skipped ({exc}); a skip never passes")
            return INTERNAL
        self.internal_errors.append(f"{nodeid}: {type(exc).__name__}: {exc}"[:2000])
        return INTERNAL

    def expected_tests(self) -> list[str]:
        return list(self.items)


def _brief_expected_failures(item: pytest.Item) -> None:
    """A grader's verdict on the student (``GradingFailure``, ``StudentError``) is reported
    by its message alone; any other failure (a grader bug) keeps pytest's traceback.

    Rendering a traceback costs milliseconds (Python 3.11 parses every frame's line to
    place its carets), and a wrong submission fails a dozen tests whose traceback only
    repeats the message. ``repr_failure`` is the item's documented hook for this text.
    """
    full = item.repr_failure

    def repr_failure(excinfo: pytest.ExceptionInfo[BaseException], *args: Any,
                     **kwargs: Any) -> Any:
        if isinstance(excinfo.value, GradingFailure | StudentError):
            return f"{type(excinfo.value).__name__}: {excinfo.value}"
        return full(excinfo, *args, **kwargs)

    item.repr_failure = repr_failure  # type: ignore[method-assign]
