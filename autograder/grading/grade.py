"""Grade one submission: the unit of work (one notebook + one assignment -> one record).

``grade_submission`` never raises for anything a submission does: a notebook
that cannot be read, that hangs, crashes or lies still gets a
``SubmissionResult`` with a status and a reason. It runs the hidden graders in
a trusted pytest session in *this* process and the student's code in a
sandboxed worker; it should itself run in a process of its own (see
``batch``), never inside another pytest session. That pytest session is started
once per grading process and assignment version and grades every submission
the process gets (``grader_session``).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from ..gradebook.results import SubmissionResult, TestOutcome
from ..intake.notebook import Cell, InvalidNotebook, read_notebook
from ..intake.submission import Submission
from ..sandbox.launch import Limits
from ..sandbox.warm import start_early
from ..sandbox.worker_handle import WorkerGone
from .catalog import Assignment, load_module
from .cells import cell_report
from .grader_session import GraderSession, GraderSessionBroken
from .prose import where, written_in_prose
from .pytest_plugin import GradingPlugin
from .session import StudentSession


def _sandbox(assignment: Assignment, limits: Limits, uid: int | None) -> dict[str, Any]:
    """What the sandbox of ``assignment``'s sessions is made of: the arguments of
    ``StudentSession`` that ``warm.worker_for`` gets, given to ``start_early`` too."""
    return {"public_files": list(assignment.public_files), "limits": limits, "uid": uid,
            "common_cells": assignment.skeleton_cells, "preload": assignment.preload}


def early_sandbox(assignment: Assignment, limits: Limits | None = None) -> Callable[[], None]:
    """What a grading process calls first (picklable; it imports only ``sandbox.warm``):
    start the sandbox ``grade_submission`` will use, so its zygote boots while the
    process imports the graders (``warm.start_early``)."""
    return functools.partial(start_early, **_sandbox(assignment, limits or assignment.limits(),
                                                     None))


def grade_submission(assignment: Assignment, submission: Submission, *, seed: int,
                     limits: Limits | None = None, uid: int | None = None) -> SubmissionResult:
    """The result record for one submission; never raises for student behaviour."""
    started = time.monotonic()
    limits = limits or assignment.limits()
    result = functools.partial(
        SubmissionResult, student_id=submission.student_id, max_score=assignment.max_score,
        questions=assignment.questions, seed=seed, source=submission.display_path,
        grader_version=assignment.version)
    if submission.problem:
        status = "missing" if submission.path is None else "invalid"
        return result(status=status, message=submission.problem, notes=submission.notes)
    assert submission.path is not None
    try:
        notebook = read_notebook(submission.path)
    except InvalidNotebook as exc:
        return result(status="invalid", message=str(exc), notes=submission.notes)
    notes = [*submission.notes, *notebook.warnings]
    session = StudentSession(notebook.cells, **_sandbox(assignment, limits, uid),
                             budgets=assignment.budgets, demo_cells=assignment.demo_cells)
    try:
        try:
            cell_outcomes = session.start()
        except WorkerGone as exc:  # an error's message is the TA's (``student_message``)
            return result(status="error", message=f"could not start the sandbox: {exc}",
                          notes=tuple(notes), extra={"sandbox": session.warnings})
        plugin, log, broken = run_graders(assignment, session, inputs_seed(seed, notebook.cells))
        cells = cell_report(cell_outcomes)
    finally:
        session.close()
    _say_where_missing_names_are(plugin, submission.path)
    tests = tuple(plugin.outcomes.get(nodeid) or _not_run(plugin, nodeid)
                  for nodeid in plugin.expected_tests())
    status, message = "graded", ""
    problems = [*plugin.problems, *([log] if broken else [])]
    if problems or not tests:
        status, message = "error", "the hidden graders are broken; nothing was scored. " + \
            "; ".join(problems or ["no tests were collected"])
        tests = ()
    elif plugin.internal_errors:
        notes.append(f"{len(plugin.internal_errors)} test(s) hit an internal grader error")
    if session.timed_out and status == "graded":
        status = "timeout"
        message = "the notebook used up its total time limit; checks that could not run scored 0"
    extra = {"restarts": session.restarts, "internal_errors": plugin.internal_errors,
             "worker_output": session.output()[-4000:], "pytest_log": log[-4000:],
             "sandbox": session.warnings}  # TA-only, never in the student's files
    return result(status=status, message=message, tests=tests, notes=tuple(notes), cells=cells,
                  seconds=time.monotonic() - started, extra=extra)


def inputs_seed(seed: int, cells: tuple[Cell, ...]) -> int:
    """The seed of a submission's hidden inputs: the run's seed and the sha256 of the code
    it runs, so feedback on one version of a notebook never pays in a changed one, and the
    same two always give the same inputs (cell ids, outputs and metadata do not count)."""
    code = hashlib.sha256(json.dumps([cell.source for cell in cells]).encode()).hexdigest()
    return int.from_bytes(hashlib.sha256(f"{seed}:{code}".encode()).digest()[:8], "big")


def run_graders(assignment: Assignment, session: StudentSession,
                seed: int) -> tuple[GradingPlugin, str, bool]:
    """Run the hidden graders against ``session``: (plugin with the outcomes, TA log, broken).

    ``broken``: the grader session failed (the log says how); nothing it scored counts.
    """
    graders = _grader_session(assignment)
    try:
        graders.run(session, seed)
    except GraderSessionBroken as exc:
        return graders.plugin, str(exc), True
    return graders.plugin, "\n".join(graders.plugin.log), False


_SESSIONS: dict[tuple[Path, str, str], GraderSession] = {}


def _grader_session(assignment: Assignment) -> GraderSession:
    """This process's live grader session for ``assignment`` (one at a time)."""
    key = (assignment.grader, assignment.name, assignment.version)
    graders = _SESSIONS.get(key)
    if graders is None or not graders.alive:
        for other in _SESSIONS.values():
            other.close()
        _SESSIONS.clear()
        reference = _reference(assignment.reference, assignment.name, assignment.version)
        plugin = GradingPlugin(None, reference, 0, assignment.questions, assignment)
        graders = _SESSIONS[key] = GraderSession(assignment.grader, plugin)
    return graders


@functools.lru_cache(maxsize=4)
def _reference(path: Path, name: str, version: str) -> ModuleType:
    """The reference module, imported once per grading process and grader version."""
    return load_module(path, f"_reference_{name}")


def _say_where_missing_names_are(plugin: GradingPlugin, path: Path) -> None:
    """A name the checks missed that is written in a markdown or raw cell: say where."""
    if not plugin.missing:
        return
    places = written_in_prose(path, set(plugin.missing.values()))
    for nodeid, name in plugin.missing.items():
        outcome = plugin.outcomes.get(nodeid)
        if name in places and outcome is not None and not outcome.passed:
            plugin.outcomes[nodeid] = dataclasses.replace(
                outcome, feedback=f"{outcome.feedback}: {where(name, places[name])}")


def _not_run(plugin: GradingPlugin, nodeid: str) -> TestOutcome:
    name, qid, points = plugin.items[nodeid]
    return TestOutcome(name, qid, points, False, "this check did not run")
