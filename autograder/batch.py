"""Grade many submissions in parallel and write the gradebook.

The unit of work is ``grading.grade_submission`` (one submission -> one
record); here it runs in a pool of grading processes (``--jobs``), so a grader
session never shares a process with the caller, and one submission that
breaks its grading process still gets a record (status ``error``).
Results are written as they arrive: ``OUT/<student_id>/results.json``, then
``OUT/gradebook.csv`` once every submission has its record.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .catalog import Assignment
from .grading import grade_submission
from .intake import Submission, find_submissions
from .results import SubmissionResult, atomic_write, write_gradebook, write_results_json
from .sandbox import Limits, bubblewrap_problem

Progress = Callable[[SubmissionResult], None]


@dataclass(frozen=True)
class BatchOutcome:
    results: list[SubmissionResult]
    seed: int
    seconds: float
    warning: str | None
    gradebook: Path


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)))


def grade_all(assignment_name: str, source: Path, out: Path, *, jobs: int | None = None,
              seed: int | None = None, limits: Limits | None = None,
              on_result: Progress | None = None,
              on_start: Callable[[int], None] | None = None) -> BatchOutcome:
    """Grade every submission under ``source`` into ``out``; return all records."""
    started = time.monotonic()
    assignment = Assignment.find(assignment_name)
    questions = assignment.questions  # fail early on a broken grader file
    seed = secrets.randbits(32) if seed is None else seed
    limits = limits or Limits()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="autograder-intake-") as workdir:
        submissions = find_submissions(source, Path(workdir))
        if on_start:
            on_start(len(submissions))
        results = _run_pool(assignment, submissions, seed, limits, jobs or default_jobs(),
                            out, on_result)
    gradebook = out / "gradebook.csv"
    write_gradebook(results, list(questions), gradebook)
    atomic_write(out / "run.txt", f"assignment: {assignment.name}\nseed: {seed}\n"
                 f"grader_version: {assignment.version}\nsubmissions: {len(results)}\n"
                 f"sandbox: {bubblewrap_problem() or 'bubblewrap'}\n")
    return BatchOutcome(results, seed, time.monotonic() - started, bubblewrap_problem(), gradebook)


def _run_pool(assignment: Assignment, submissions: list[Submission], seed: int, limits: Limits,
              jobs: int, out: Path, on_result: Progress | None) -> list[SubmissionResult]:
    results: list[SubmissionResult] = []
    context = multiprocessing.get_context("forkserver")
    with cf.ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = {pool.submit(grade_submission, assignment, sub, seed=seed, limits=limits): sub
                   for sub in submissions}
        for future in cf.as_completed(futures):
            result = _result_of(future, futures[future], assignment, seed)
            write_results_json(result, out)
            results.append(result)
            if on_result:
                on_result(result)
    return results


def _result_of(future: cf.Future[SubmissionResult], submission: Submission,
               assignment: Assignment, seed: int) -> SubmissionResult:
    try:
        return future.result()
    except Exception as exc:  # noqa: BLE001 - the grading process itself broke
        print(f"autograder: grading {submission.student_id} failed: {exc!r}", file=sys.stderr)
        return SubmissionResult(
            student_id=submission.student_id, status="error", max_score=assignment.max_score,
            questions=assignment.questions, seed=seed, source=submission.display_path,
            message=f"the grading process failed ({type(exc).__name__}); nothing was scored",
            grader_version=assignment.version)
