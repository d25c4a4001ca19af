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

import hashlib
import json
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path

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
from ..gradebook.store import DB_NAME, Gradebook, Key, exclusive
from ..grading.catalog import Assignment
from ..intake.find import find_submissions
from ..intake.submission import Submission
from ..sandbox.launch import Limits, bubblewrap_problem
from .dask_executor import check_cluster, run_dask
from .exports import (
    EXPORTED,
    RunResults,
    csv_row_of,
    export_code,
    export_key,
    files_present,
    read_exported,
)
from .pool import POOL_TRIES, Alongside
from .pool import run_pool as _run_pool

__all__ = ["POOL_TRIES", "Alongside", "BatchOutcome", "Plan", "export", "export_student",
           "grade_all", "plan_run"]

Progress = Callable[[SubmissionResult], None]


@dataclass(frozen=True)
class BatchOutcome:
    # one per submission of this run, graded now or reused: read from the gradebook when
    # used (``exports.RunResults``), so a class of any size costs no memory here
    results: Sequence[SubmissionResult]
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
    reused: list[Key]  # the stored gradings reused (their keys; records read when needed)
    resumes: int | None  # the unfinished run this one continues


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)))


def plan_run(book: Gradebook, assignment: str, grader_version: str,
             submissions: list[Submission], seed: int | None, force: bool = False) -> Plan:
    """Apply the resume rules (module docstring) to the stored results of ``assignment``."""
    runs = book.runs(assignment)
    if seed is None:
        seed = runs[-1].seed if runs else secrets.randbits(32)
    latest = book.latest_keys(assignment)
    to_grade: list[tuple[Submission, str]] = []
    reused: list[Key] = []
    for submission in submissions:
        sha256 = submission_sha256(submission)
        stored = latest.get(submission.student_id)
        if (not force and stored is not None and stored.status != "error"
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
              overrides: list[Override] | None = None,
              alongside: Alongside | None = None) -> BatchOutcome:
    """Grade what changed under ``source`` into ``out``; return this run's records.

    ``on_start`` gets the number of submissions to grade (reused ones excluded);
    ``on_result`` is called once per freshly graded record, after it is stored.
    ``show_test_names`` only decides how the student-visible files name hidden tests.
    ``cluster``: grade on a Dask cluster (``dask_executor``) instead of the local pool.
    ``deadlines``, ``overrides`` (and the submission times intake finds, read in
    ``server_zone``) are kept in the gradebook's ledger and applied to every export.
    ``alongside``: more work on each notebook in the grading processes (``Alongside``;
    not with ``cluster``).
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
        graded: list[str] = []  # student ids, and their records' ids (not the records)
        graded_ids: list[int] = []

        adjustments = ledger.Adjustments(book.connection, assignment.name)

        def record(result: SubmissionResult, sha256: str) -> None:
            result = sanitized(result)
            graded_ids.append(book.add_result(run_id, result, sha256))
            shown = adjustments.apply(result)  # what every output shows (ledger.current)
            export_student(shown, assignment, out, show_test_names=show_test_names)
            graded.append(shown.student_id)
            if on_result:
                on_result(shown)

        try:
            if cluster:
                run_dask(assignment, plan.to_grade, plan.seed, limits, cluster, version, record)
            else:
                _run_pool(assignment, plan.to_grade, plan.seed, limits, jobs or default_jobs(),
                          version, record, alongside=alongside)
        except BaseException:
            book.finish_run(run_id, "interrupted")
            raise
        book.finish_run(run_id, "finished")
        exported = export(book, assignment, out, show_test_names=show_test_names,
                          already=set(graded))
    atomic_write(out / "run.txt", f"assignment: {assignment.name}\nrun: {run_id}\n"
                 f"seed: {plan.seed}\ngrader_version: {version}\n"
                 f"submissions: {len(submissions)}\ngraded: {len(graded)}\n"
                 f"reused: {len(plan.reused)}\nsandbox: {sandbox}\n"
                 f"test_names: {'shown' if show_test_names else 'hidden'}\n")
    return BatchOutcome(
        results=RunResults(out / DB_NAME, assignment.name,
                           [*graded_ids, *(stored.id for stored in plan.reused)]),
        seed=plan.seed,
        seconds=time.monotonic() - started, warning=bubblewrap_problem(),
        gradebook=out / "gradebook.csv", run_id=run_id, graded=tuple(graded),
        reused=tuple(s.student_id for s in plan.reused), exported=exported,
        database=out / DB_NAME)


def export(book: Gradebook, assignment: Assignment, out: Path, *,
           show_test_names: bool = True, already: Collection[str] = ()) -> int:
    """Rewrite ``gradebook.csv``, and the files of every student whose latest stored result
    (with the ledger's adjustments) or the export code changed since they were written.

    ``already``: students whose files were written from their latest result in this run.
    ``OUT/.exported.json`` keeps, per student, the digest of what their files were
    written from; a student whose digest is unchanged and whose folder is still
    there is not written again (an unchanged re-run writes only gradebook.csv).
    Streamed: one stored record at a time; only each student's CSV row is kept.
    """
    adjustments = ledger.Adjustments(book.connection, assignment.name)
    code = export_code()
    before = read_exported(out)
    after: dict[str, str] = {}
    rows: list[SubmissionResult] = []
    for stored in book.each_latest(assignment.name):  # ledger.current, one at a time
        result = adjustments.apply(stored.result)  # regrades applied
        rows.append(csv_row_of(result, adjustments.columns))
        sid = result.student_id
        key = export_key(result, assignment.name, show_test_names, code)
        if sid in already or (before.get(sid) == key and files_present(out, sid)):
            written = files_present(out, sid)
        else:
            written = export_student(result, assignment, out, show_test_names=show_test_names)
        if written:
            after[sid] = key
    write_gradebook(rows, list(assignment.questions), out / "gradebook.csv",
                    adjustments.columns)
    if after != before:
        atomic_write(out / EXPORTED, json.dumps(after, sort_keys=True))
    return len(rows)


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
