"""The local pool of grading processes: ``run_pool`` grades a list of submissions.

One submission per task, at most ``IN_FLIGHT`` per grading process queued at a
time (forkserver processes, so a grader session never shares a process with the
caller), each record handed on as it arrives and dropped; a grading process that
dies costs a retry in a fresh pool, not a grade. ``Alongside`` is more work on
each notebook done in the grading process after its grading (the report's
similarity fingerprints), so the main process never reads the class again.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import functools
import itertools
import multiprocessing
import signal
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from types import FrameType
from typing import Protocol

from ..gradebook.results import SubmissionResult
from ..grading.catalog import Assignment
from ..intake.submission import Submission
from ..sandbox.launch import Limits

STOP_GRACE_SECONDS = 3.0
IN_FLIGHT = 4  # submissions queued per grading process (not the whole class up front)


class Alongside(Protocol):
    """Work done on each submitted file in the grading process, after its grading (the
    report's similarity fingerprints: ``report.fingerprint_store.Prefill``), kept here.

    ``compute`` is sent to the grading processes (picklable: not a method of an object
    holding open files); it gets the notebook's path and returns something
    picklable, or None. ``keep`` gets the submission's sha256 and that value in this
    process. Neither may decide a grade: a failing ``compute`` costs only its value.
    """

    @property
    def compute(self) -> Callable[[Path], object]: ...

    def keep(self, sha256: str, value: object) -> None: ...


POOL_TRIES = 3  # a submission in flight when a grading process dies is retried this often


def run_pool(assignment: Assignment, work: list[tuple[Submission, str]], seed: int,
              limits: Limits, jobs: int, version: str,
              record: Callable[[SubmissionResult, str], None],
              grade: Callable[..., SubmissionResult] | None = None,
              alongside: Alongside | None = None) -> None:
    """Grade ``work`` in a process pool; a pool broken by a dying process is replaced.

    At most ``IN_FLIGHT`` submissions per grading process are queued at a time, and
    each record is passed to ``record`` and dropped as it arrives: memory does not
    grow with the class. The submissions that were in flight when a grading process
    died are graded again in a fresh pool, up to ``POOL_TRIES`` times each; after
    that they get an ``error`` record (and are retried by the next run, as every
    error is); those not started yet go to the fresh pool without a try counted.
    """
    if not work:
        return
    early: Callable[[], None] | None = None
    if grade is None:  # imported here: a run with nothing to grade never loads the grader
        from ..grading.grade import early_sandbox, grade_submission
        grade, early = grade_submission, early_sandbox(assignment, limits)
    pending = list(work)
    tries = {submission.student_id: 0 for submission, _ in work}
    context = multiprocessing.get_context("forkserver")
    compute = alongside.compute if alongside is not None else None
    while pending:
        workers = min(jobs, len(pending))
        pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                      initializer=_init_grading_process, initargs=(early,))
        task = functools.partial(_grade_and, grade, compute, assignment, seed=seed,
                                 limits=limits)
        queue = iter(pending)
        futures: Futures = {}
        broken: list[tuple[Submission, str]] = []
        try:
            _submit(pool, task, queue, workers * IN_FLIGHT, futures, broken)
            while futures:
                done, _ = cf.wait(futures, return_when=cf.FIRST_COMPLETED)
                for future in done:
                    submission, sha256 = futures.pop(future)
                    if isinstance(future.exception(), BrokenProcessPool):
                        tries[submission.student_id] += 1
                        if tries[submission.student_id] < POOL_TRIES:
                            broken.insert(0, (submission, sha256))
                            continue
                    result, extra = _result_of(future, submission, assignment, seed)
                    if result.grader_version != version:  # the version this batch decided on
                        result = dataclasses.replace(result, grader_version=version)
                    record(result, sha256)
                    if alongside is not None and extra is not None:
                        alongside.keep(sha256, extra)
                    _submit(pool, task, queue, 1, futures, broken)
            broken.extend(queue)  # (only when the pool broke) not started yet
        except BaseException:
            _stop(pool)
            raise
        pool.shutdown(wait=True)
        if broken:
            print(f"autograder: a grading process died; grading {len(broken)} submission(s) "
                  "again in a new pool", file=sys.stderr)
        pending = broken


Futures = dict[cf.Future[tuple[SubmissionResult, object]], tuple[Submission, str]]


def _submit(pool: cf.ProcessPoolExecutor,
            task: Callable[[Submission], tuple[SubmissionResult, object]],
            queue: Iterator[tuple[Submission, str]], count: int, futures: Futures,
            broken: list[tuple[Submission, str]]) -> None:
    """Queue the next ``count`` submissions; none once the pool broke (they wait in
    ``broken`` for the next pool)."""
    for submission, sha256 in itertools.islice(queue, count):
        if not broken:
            try:
                futures[pool.submit(task, submission)] = (submission, sha256)
                continue
            except BrokenProcessPool:
                pass
        broken.append((submission, sha256))


def _grade_and(grade: Callable[..., SubmissionResult], compute: Callable[[Path], object] | None,
               assignment: Assignment, submission: Submission, *, seed: int,
               limits: Limits) -> tuple[SubmissionResult, object]:
    """In a grading process: grade one submission, then ``compute`` on its file (if any)."""
    result = grade(assignment, submission, seed=seed, limits=limits)
    extra = None
    if compute is not None and submission.path is not None:
        try:
            extra = compute(submission.path)
        except Exception:  # noqa: BLE001, S110 - optional work: never a grade's business
            pass
    return result, extra


def _stop(pool: cf.ProcessPoolExecutor) -> None:
    """Cancel what has not started and stop the grading processes now (Ctrl-C)."""
    # Python 3.11 has no public way to reach the workers (3.14: terminate_workers)
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:  # SIGTERM: SystemExit in the child closes its sandbox
        if process.is_alive():
            process.terminate()
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join(1.0)


def _init_grading_process(early: Callable[[], None] | None = None) -> None:
    """In each grading process: Ctrl-C is the batch's to handle; SIGTERM exits cleanly;
    then ``early`` (``grading.grade.early_sandbox``: the sandbox starts while the first
    task's imports run).

    A no-op handler, not SIG_IGN, so the sandbox worker (exec'd) still gets the
    default SIGINT it uses to interrupt a cell.
    """
    signal.signal(signal.SIGINT, _ignore_signal)
    signal.signal(signal.SIGTERM, _exit_on_signal)
    if early is not None:
        early()


def _ignore_signal(signum: int, frame: FrameType | None) -> None:
    return None


def _exit_on_signal(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def _result_of(future: cf.Future[tuple[SubmissionResult, object]], submission: Submission,
               assignment: Assignment, seed: int) -> tuple[SubmissionResult, object]:
    try:
        return future.result()
    except Exception as exc:  # noqa: BLE001 - the grading process itself broke
        print(f"autograder: grading {submission.student_id} failed: {exc!r}", file=sys.stderr)
        return SubmissionResult(
            student_id=submission.student_id, status="error", max_score=assignment.max_score,
            questions=assignment.questions, seed=seed, source=submission.display_path,
            message=f"the grading process failed ({type(exc).__name__}); nothing was scored",
            grader_version=assignment.version), None
