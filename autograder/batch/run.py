"""Grade many submissions in parallel, resumably, into the gradebook database and its exports.

The unit of work is ``grading.grade.grade_submission`` (one submission -> one
record); here it runs in a pool of grading processes (``--jobs``, forkserver),
so a grader session never shares a process with the caller, and one submission
that breaks its grading process still gets a record (status ``error``).

Resume and idempotence (the rules ``plan_run`` applies):

* A stored result is reused, not regraded, when its key equals the current one:
  (assignment, student id, sha256 of the submitted file, grader version, seed),
  and its status is not ``error`` (a failure that is not the student's is tried
  again). ``force=True`` regrades everything.
* The seed: ``seed`` if given; otherwise the seed of this assignment's latest
  run in this gradebook (so a resumed or repeated run reuses it); otherwise a
  fresh random one. An explicit seed that differs from the stored one changes
  the key, so every submission is regraded with it.
* Every finished submission is committed in its own transaction as it arrives,
  so an interrupted batch (Ctrl-C, a killed machine) loses at most the
  submissions in flight; the next run finds the rest stored and grades only
  those. On Ctrl-C pending work is cancelled and the grading processes stopped.

What may not happen here: grading in this process, or exports that are not
the database's latest result per student, written atomically after every run
(they also keep students graded by earlier runs into the same folder):

* ``OUT/gradebook.csv``;
* ``OUT/<student_id>/``: ``results.json``, ``feedback.md`` and ``feedback.html``,
  everything in it student-visible (hidden test names shown unless
  ``show_test_names=False``, an export choice that never changes a score or
  forces a regrade);
* ``OUT/_ta_logs/<student_id>.json``: the full record with the TA-only
  diagnostics (internal grader errors, the notebook's output, the pytest log).
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import hashlib
import json
import multiprocessing
import os
import secrets
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Collection
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from types import FrameType

from ..gradebook import ledger, safetext
from ..gradebook.feedback import write_feedback
from ..gradebook.lateness import Deadlines
from ..gradebook.ledger import Override
from ..gradebook.results import (
    SubmissionResult,
    UnsafePath,
    atomic_write,
    sanitized,
    write_gradebook,
    write_results_json,
    write_ta_log,
)
from ..gradebook.safe_ids import safe_ids
from ..gradebook.store import DB_NAME, Gradebook, StoredResult, exclusive
from ..grading.catalog import Assignment
from ..intake.find import find_submissions
from ..intake.submission import Submission
from ..sandbox.launch import Limits, bubblewrap_problem
from .dask_executor import check_cluster, run_dask
from .exports import EXPORTED, export_code, export_key, files_present, read_exported

Progress = Callable[[SubmissionResult], None]
STOP_GRACE_SECONDS = 3.0


@dataclass(frozen=True)
class BatchOutcome:
    results: list[SubmissionResult]  # one per submission of this run, graded now or reused
    seed: int
    seconds: float
    warning: str | None
    gradebook: Path
    run_id: int = 0
    graded: tuple[str, ...] = ()  # student ids graded by this run
    reused: tuple[str, ...] = ()  # student ids whose stored result was reused
    exported: int = 0  # rows in gradebook.csv (students of earlier runs included)
    database: Path | None = None


@dataclass(frozen=True)
class Plan:
    """What a run will do: its seed, what to grade, which stored results to reuse."""

    seed: int
    to_grade: list[tuple[Submission, str]]  # (submission, sha256)
    reused: list[StoredResult]
    resumes: int | None  # the unfinished run this one continues


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)))


def plan_run(book: Gradebook, assignment: str, grader_version: str,
             submissions: list[Submission], seed: int | None, force: bool = False) -> Plan:
    """Apply the resume rules (module docstring) to the stored results of ``assignment``."""
    runs = book.runs(assignment)
    if seed is None:
        seed = runs[-1].seed if runs else secrets.randbits(32)
    latest = book.latest(assignment)
    to_grade: list[tuple[Submission, str]] = []
    reused: list[StoredResult] = []
    for submission in submissions:
        sha256 = submission_sha256(submission)
        stored = latest.get(submission.student_id)
        if (not force and stored is not None and stored.result.status != "error"
                and stored.matches(sha256, grader_version, seed)):
            reused.append(stored)
        else:
            to_grade.append((submission, sha256))
    unfinished = runs[-1] if runs and runs[-1].status != "finished" else None
    resumes = unfinished.id if unfinished is not None and unfinished.seed == seed else None
    return Plan(seed, to_grade, reused, resumes)


def grade_all(assignment_name: str, source: Path, out: Path, *, jobs: int | None = None,
              seed: int | None = None, limits: Limits | None = None,
              on_result: Progress | None = None,
              on_start: Callable[[int], None] | None = None,
              force: bool = False, argv: list[str] | None = None,
              show_test_names: bool = True, cluster: str | None = None,
              deadlines: Deadlines | None = None, server_zone: tzinfo | None = None,
              overrides: list[Override] | None = None) -> BatchOutcome:
    """Grade what changed under ``source`` into ``out``; return this run's records.

    ``on_start`` gets the number of submissions to grade (reused ones excluded);
    ``on_result`` is called once per freshly graded record, after it is stored.
    ``show_test_names`` only decides how the student-visible files name hidden tests.
    ``cluster``: grade on a Dask cluster (``dask_executor``) instead of the local pool.
    ``deadlines``, ``overrides`` (and the submission times intake finds, read in
    ``server_zone``) are kept in the gradebook's ledger and applied to every export.
    """
    started = time.monotonic()
    if cluster:
        check_cluster(cluster)  # before a run is recorded
    assignment = Assignment.find(assignment_name)
    assignment.questions  # fail early on a broken grader file  # noqa: B018
    version = assignment.version
    limits = limits or assignment.limits()
    sandbox = bubblewrap_problem() or "bubblewrap"
    with exclusive(out), Gradebook.open(out / DB_NAME) as book, \
            tempfile.TemporaryDirectory(prefix="autograder-intake-") as workdir:
        submissions = safe_ids(find_submissions(source, Path(workdir), server_zone))
        ledger.record_intake(book.connection, assignment.name, submissions)
        if deadlines is not None:
            ledger.set_deadlines(book.connection, assignment.name, deadlines)
        if overrides:
            ledger.add_overrides(book.connection, assignment.name, overrides)
        plan = plan_run(book, assignment.name, version, submissions, seed, force)
        run_id = book.start_run(assignment.name, plan.seed, version, sandbox,
                                argv if argv is not None else sys.argv, plan.resumes)
        book.add_reuses(run_id, [stored.id for stored in plan.reused])
        if on_start:
            on_start(len(plan.to_grade))
        graded: list[SubmissionResult] = []

        adjustments = ledger.Adjustments(book.connection, assignment.name)

        def record(result: SubmissionResult, sha256: str) -> None:
            result = sanitized(result)
            book.add_result(run_id, result, sha256)
            shown = adjustments.apply(result)  # what every output shows (ledger.current)
            export_student(shown, assignment, out, show_test_names=show_test_names)
            graded.append(shown)
            if on_result:
                on_result(shown)

        try:
            if cluster:
                run_dask(assignment, plan.to_grade, plan.seed, limits, cluster, version, record)
            else:
                _run_pool(assignment, plan.to_grade, plan.seed, limits, jobs or default_jobs(),
                          version, record)
        except BaseException:
            book.finish_run(run_id, "interrupted")
            raise
        book.finish_run(run_id, "finished")
        exported = export(book, assignment, out, show_test_names=show_test_names,
                          already={r.student_id for r in graded})
    atomic_write(out / "run.txt", f"assignment: {assignment.name}\nrun: {run_id}\n"
                 f"seed: {plan.seed}\ngrader_version: {version}\n"
                 f"submissions: {len(submissions)}\ngraded: {len(graded)}\n"
                 f"reused: {len(plan.reused)}\nsandbox: {sandbox}\n"
                 f"test_names: {'shown' if show_test_names else 'hidden'}\n")
    return BatchOutcome(
        results=[*graded, *(adjustments.apply(stored.result) for stored in plan.reused)],
        seed=plan.seed,
        seconds=time.monotonic() - started, warning=bubblewrap_problem(),
        gradebook=out / "gradebook.csv", run_id=run_id,
        graded=tuple(r.student_id for r in graded),
        reused=tuple(s.result.student_id for s in plan.reused), exported=exported,
        database=out / DB_NAME)


def export(book: Gradebook, assignment: Assignment, out: Path, *,
           show_test_names: bool = True, already: Collection[str] = ()) -> int:
    """Rewrite ``gradebook.csv``, and the files of every student whose latest stored result
    (with the ledger's adjustments) or the export code changed since they were written.

    ``already``: students whose files were written from their latest result in this run.
    ``OUT/.exported.json`` keeps, per student, the digest of what their files were
    written from; a student whose digest is unchanged and whose folder is still
    there is not written again (an unchanged re-run writes only gradebook.csv).
    """
    adjustments = ledger.Adjustments(book.connection, assignment.name)
    latest = list(ledger.current(book, assignment.name).values())  # regrades applied
    code = export_code()
    before = read_exported(out)
    after: dict[str, str] = {}
    for result in latest:
        sid = result.student_id
        key = export_key(result, assignment.name, show_test_names, code)
        if sid in already or (before.get(sid) == key and files_present(out, sid)):
            written = files_present(out, sid)
        else:
            written = export_student(result, assignment, out, show_test_names=show_test_names)
        if written:
            after[sid] = key
    write_gradebook(latest, list(assignment.questions), out / "gradebook.csv",
                    adjustments.columns)
    if after != before:
        atomic_write(out / EXPORTED, json.dumps(after, sort_keys=True))
    return len(latest)


def export_student(result: SubmissionResult, assignment: Assignment, out: Path, *,
                   show_test_names: bool = True) -> bool:
    """One student's files: results.json and feedback (student-visible), the TA log.

    A student whose files cannot be written (a path that would leave OUT, a folder
    in the way) is reported (False); the row stays in the database and
    gradebook.csv, and the batch goes on.
    """
    try:
        write_results_json(result, out, show_test_names=show_test_names)
        write_feedback(result, out, assignment=assignment.name, show_test_names=show_test_names)
        write_ta_log(result, out)
    except (UnsafePath, OSError) as exc:
        print(f"autograder: the files of {safetext.one_line(result.student_id)!r} were not "
              f"written: {safetext.one_line(exc)}", file=sys.stderr)
        return False
    return True


def submission_sha256(submission: Submission) -> str:
    """The sha256 of the submitted file; empty when there is no file."""
    if submission.path is None or not submission.path.is_file():
        return ""
    digest = hashlib.sha256()
    with submission.path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


POOL_TRIES = 3  # a submission in flight when a grading process dies is retried this often


def _run_pool(assignment: Assignment, work: list[tuple[Submission, str]], seed: int,
              limits: Limits, jobs: int, version: str,
              record: Callable[[SubmissionResult, str], None],
              grade: Callable[..., SubmissionResult] | None = None) -> None:
    """Grade ``work`` in a process pool; a pool broken by a dying process is replaced.

    The submissions that were pending when a grading process died are graded
    again in a fresh pool, up to ``POOL_TRIES`` times each; after that they get
    an ``error`` record (and are retried by the next run, as every error is).
    """
    if not work:
        return
    if grade is None:  # imported here: a run with nothing to grade never loads the grader
        from ..grading.grade import grade_submission
        grade = grade_submission
    pending = list(work)
    tries = {submission.student_id: 0 for submission, _ in work}
    context = multiprocessing.get_context("forkserver")
    while pending:
        pool = cf.ProcessPoolExecutor(max_workers=min(jobs, len(pending)), mp_context=context,
                                      initializer=_init_grading_process)
        broken: list[tuple[Submission, str]] = []
        try:
            futures = {pool.submit(grade, assignment, submission, seed=seed,
                                   limits=limits): (submission, sha256)
                       for submission, sha256 in pending}
            for future in cf.as_completed(futures):
                submission, sha256 = futures[future]
                if isinstance(future.exception(), BrokenProcessPool):
                    tries[submission.student_id] += 1
                    if tries[submission.student_id] < POOL_TRIES:
                        broken.append((submission, sha256))
                        continue
                result = _result_of(future, submission, assignment, seed)
                if result.grader_version != version:  # the version this batch decided on
                    result = dataclasses.replace(result, grader_version=version)
                record(result, sha256)
        except BaseException:
            _stop(pool)
            raise
        pool.shutdown(wait=True)
        if broken:
            print(f"autograder: a grading process died; grading {len(broken)} submission(s) "
                  "again in a new pool", file=sys.stderr)
        pending = broken


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


def _init_grading_process() -> None:
    """In each grading process: Ctrl-C is the batch's to handle; SIGTERM exits cleanly.

    A no-op handler, not SIG_IGN, so the sandbox worker (exec'd) still gets the
    default SIGINT it uses to interrupt a cell.
    """
    signal.signal(signal.SIGINT, _ignore_signal)
    signal.signal(signal.SIGTERM, _exit_on_signal)


def _ignore_signal(signum: int, frame: FrameType | None) -> None:
    return None


def _exit_on_signal(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


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
