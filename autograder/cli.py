"""``python -m autograder``: assembles the commands; the work happens elsewhere.

Commands: ``grade`` (TA: a batch into a gradebook, ``batch``), ``history`` (one
student's gradings, ``store``), ``check`` (student: a notebook's public checks,
``check``), ``bundle`` (a Gradescope autograder zip, ``bundle``), ``report`` (the TA's
static site from the gradebook, ``report``; ``grade`` writes it too).

One place maps the project's errors to exit codes and one-line messages:
0 success, 1 the run finished but some submissions could not be graded
(status ``error``) or, for ``check``, some public check failed, 2 bad arguments
or input (one line, e.g. ``--out`` naming a file, never a traceback), 130 interrupted (Ctrl-C; what finished is stored and the same command
resumes).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.text import Text

from .batch.run import BatchOutcome, grade_all
from .bundle import build_bundle
from .errors import AutograderError
from .gradebook import ledger
from .gradebook.history import history_lines
from .gradebook.lateness import load_deadlines
from .gradebook.lateness import zone as load_zone
from .gradebook.ledger import (
    Override,
    read_overrides,
    set_source,
    set_zone,
    without_submission,
)
from .gradebook.results import SubmissionResult
from .gradebook.store import DB_NAME, Gradebook
from .gradebook.summary import print_summary
from .grading.catalog import Assignment
from .intake.ids import CLASH_NOTE, ID_NOTE
from .report import fingerprints_while_grading, write_report
from .sandbox.launch import Limits
from .student.check import check_notebook, render

MESSAGES = 20  # id notes shown in the terminal; all are in the TA logs


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m autograder",
                                     description="Sandboxed autograder for course notebooks.")
    commands = parser.add_subparsers(dest="command", required=True)
    grade = commands.add_parser("grade", help="grade a folder or zip of submissions",
                                description="Grade every submission with the hidden graders.")
    grade.add_argument("assignment", help="assignment name, e.g. hw1")
    grade.add_argument("submissions", type=Path, help="folder or .zip of submitted notebooks")
    grade.add_argument("--out", type=Path, required=True, help="output folder")
    grade.add_argument("--jobs", type=int, default=None,
                       help="parallel graders (default: all cores)")
    grade.add_argument("--cluster", default=None, metavar="ADDRESS",
                       help="grade on a Dask cluster: its scheduler's address (tcp://HOST:8786) "
                            "or local:N for a LocalCluster of N worker processes")
    grade.add_argument("--seed", type=int, default=None,
                       help="seed of the hidden inputs (default: the seed of the last run in "
                            "OUT, else random; recorded); a different seed regrades everything")
    defaults = Limits()  # the manifest's [limits] replace these defaults; a flag given wins
    grade.add_argument("--cell-timeout", type=float, default=None, metavar="S",
                       help=f"wall-clock seconds per notebook cell (default {defaults.cell_seconds})")
    grade.add_argument("--call-timeout", type=float, default=None, metavar="S",
                       help=f"default wall-clock seconds per graded call "
                            f"(default {defaults.call_seconds})")
    grade.add_argument("--submission-timeout", type=float, default=None, metavar="S",
                       help=f"wall-clock seconds per submission "
                            f"(default {defaults.submission_seconds})")
    grade.add_argument("--cpu", type=int, default=None, metavar="S",
                       help=f"CPU seconds per worker process (default {defaults.cpu_seconds})")
    grade.add_argument("--memory-mb", type=int, default=None,
                       help=f"address-space limit of the worker in MiB "
                            f"(default {defaults.memory_bytes // 2**20})")
    grade.add_argument("--processes", type=int, default=None,
                       help=f"processes/threads the worker may have (default {defaults.processes})")
    grade.add_argument("--force", action="store_true",
                       help="regrade every submission, even those with a stored result for the "
                            "same file, grader version and seed")
    grade.add_argument("--hide-test-names", action="store_true",
                       help="name hidden tests 'check N of M' in results.json and feedback "
                            "(e.g. before the deadline); an export choice: scores unchanged, "
                            "nothing regraded")
    grade.add_argument("--quiet", action="store_true", help="no progress bar or table")
    grade.add_argument("--deadline", metavar="WHEN",
                       help="deadline, ISO 8601 (2026-10-01T23:59+09:00); gradebook.csv gets "
                            "submitted_at and late_days (kept for later runs)")
    grade.add_argument("--grace", type=float, metavar="MINUTES",
                       help="minutes after each deadline that still count as on time (0 late "
                            "days); late days count from deadline + grace (kept with the "
                            "deadline; needs --deadline)")
    grade.add_argument("--extensions", type=Path, metavar="CSV",
                       help="per-student deadlines: student_id,deadline (needs --deadline)")
    grade.add_argument("--timezone", metavar="ZONE",
                       help="zone of the Blackboard server's times and of a deadline without "
                            "offset, e.g. Asia/Seoul (default: the deadline's offset)")
    grade.add_argument("--overrides", type=Path, metavar="CSV",
                       help="granted regrades: student_id,question,points,who,why; recorded "
                            "in the gradebook's history and applied to every later export")
    grade.add_argument("--blackboard-grade-center", type=Path, metavar="FILE",
                       help="the Grade Center file downloaded from Blackboard (Work Offline); "
                            "writes OUT/blackboard_upload.csv updating its column for this "
                            "assignment (without it, a new column)")
    grade.add_argument("--blackboard-column", metavar="NAME",
                       help="the Grade Center column of this assignment, which must exist "
                            "(default: the one named like the receipts' Assignment: title, else "
                            "like the assignment)")
    history = commands.add_parser(
        "history", help="every grading of one student, and what changed between them",
        description="Show each stored grading of a student (score, per-question points, seed, "
                    "grader version, submission hash) and what changed between consecutive ones.")
    history.add_argument("assignment", help="assignment name, e.g. hw1")
    history.add_argument("student", help="student id")
    history.add_argument("--out", type=Path, required=True,
                         help="the output folder the grade command wrote (holds gradebook.sqlite)")
    check = commands.add_parser(
        "check", help="run a notebook's public checks (students)",
        description="Run the notebook in the sandbox, then its public (otter) checks. Exit 0 "
                    "when every public check passes, 1 otherwise. Hidden tests decide the grade.")
    check.add_argument("notebook", type=Path, help="the .ipynb to check")
    check.add_argument("--assignment", default=None,
                       help="assignment name (default: the one recorded in the notebook)")
    bundle = commands.add_parser(
        "bundle", help="build a Gradescope autograder zip for an assignment",
        description="Write OUT/NAME-gradescope-autograder.zip: setup.sh, run_autograder and "
                    "only what grading needs (engine, graders, reference, public data).")
    bundle.add_argument("assignment", help="assignment name, e.g. hw1")
    bundle.add_argument("--out", type=Path, required=True, help="folder for the zip")
    bundle.add_argument("--hide-test-names", action="store_true",
                        help="Gradescope shows hidden tests as 'check N of M'")
    report = commands.add_parser(
        "report", help="write the TA report (OUT/report/index.html) from the gradebook",
        description="Write a static, offline site: score distributions, item analysis, every "
                    "student's row linked to their feedback, who needs a person and why, and "
                    "(with --submissions) the most similar pairs of students' code.")
    report.add_argument("assignment", help="assignment name, e.g. hw1")
    report.add_argument("--out", type=Path, required=True,
                        help="the output folder the grade command wrote (holds gradebook.sqlite)")
    report.add_argument("--submissions", type=Path, default=None,
                        help="folder or .zip of the submitted notebooks, to compare their code "
                             "(default: where the last grade of ASSIGNMENT into OUT read them)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
    try:
        if args.command == "grade":
            return _grade(args, console)
        if args.command == "history":
            return _history(args, console)
        if args.command == "check":
            return _check(args, console)
        if args.command == "bundle":
            return _bundle(args, console)
        if args.command == "report":
            return _report(args, console)
    except AutograderError as exc:
        console.print(f"autograder: error: {exc}", markup=False)
        return 2
    except ValueError as exc:
        console.print(f"autograder: error: {exc}", markup=False)
        return 2
    except OSError as exc:  # a path that cannot be written or read: the user's to fix
        where = f"{exc.filename}: " if exc.filename else ""
        console.print(f"autograder: error: {where}{exc.strerror or exc}", markup=False)
        return 2
    return 2


LOOKED_FOR = ("<student_id>.ipynb, <student_id>.zip, <student_id>/<any>.ipynb, or Blackboard's "
              "Assignment File Download (<Assignment>_<username>_attempt_<stamp>.txt receipts "
              "and their files)")


def _grade(args: argparse.Namespace, console: Console) -> int:
    if args.out.exists() and not args.out.is_dir():
        raise AutograderError(f"--out {args.out}: not a folder (a file is in the way; give "
                              "a new or existing folder)")
    memory = args.memory_mb * 2**20 if args.memory_mb is not None else None
    limits = Assignment.find(args.assignment).limits(
        cell_seconds=args.cell_timeout, call_seconds=args.call_timeout,
        submission_seconds=args.submission_timeout, cpu_seconds=args.cpu,
        memory_bytes=memory, processes=args.processes)
    progress = Progress(TextColumn("grading {task.description}"), BarColumn(),
                        MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
                        TextColumn("ETA"), TimeRemainingColumn(), console=console,
                        disable=args.quiet or not console.is_terminal)
    task = progress.add_task(args.assignment, total=None, rate="")
    missing = Assignment.find(args.assignment).missing_packages()
    if missing:
        console.print(f"WARNING: {args.assignment} declares packages that are not installed here: "
                      f"{', '.join(missing)} (pip install them into this environment; meanwhile a "
                      "student's import of them gets a stand-in and a note)", markup=False)
    done: list[str] = []  # student ids (the records are in the gradebook, not kept here)
    clock = {"start": time.monotonic(), "total": 0}

    def on_start(total: int) -> None:  # intake is done and recorded; nothing graded yet
        if overrides:
            _warn_orphan_overrides(args, overrides, console)
        clock.update(start=time.monotonic(), total=total)
        progress.update(task, total=total)
        if progress.disable and not args.quiet:
            console.print(f"grading {total} submission(s)", markup=False)

    def on_result(result: SubmissionResult) -> None:
        done.append(result.student_id)
        rate = len(done) / max(time.monotonic() - clock["start"], 1e-9)
        if progress.disable and not args.quiet:
            eta = (clock["total"] - len(done)) / rate
            console.print(f"[{len(done)}/{clock['total']}] {result.student_id}: {result.status} "
                          f"{result.score:g}/{result.max_score:g} ({rate:.2f}/s, ETA {eta:.0f} s)",
                          markup=False)
        progress.update(task, advance=1, rate=f"{rate:.2f}/s")

    deadlines, zone = None, None
    if args.deadline:
        deadlines, zone = load_deadlines(args.deadline, args.extensions, args.timezone,
                                         args.grace)
    elif args.extensions or args.grace is not None:
        raise AutograderError(f"{'--extensions' if args.extensions else '--grace'} needs "
                              "--deadline")
    elif args.timezone:
        zone = load_zone(args.timezone)
    if args.blackboard_grade_center is not None:  # read and checked before grading
        from .gradebook.lms import check_grade_center  # only here: it reads course.gradecenter

        check_grade_center(args.blackboard_grade_center, args.blackboard_column)
    overrides = None
    if args.overrides:
        overrides = read_overrides(args.overrides, Assignment.find(args.assignment).questions)
    try:
        with progress, fingerprints_while_grading(args.assignment, args.out) as alongside:
            outcome = grade_all(args.assignment, args.submissions, args.out, jobs=args.jobs,
                                seed=args.seed, limits=limits, on_result=on_result,
                                on_start=on_start, force=args.force,
                                argv=["python -m autograder", *sys.argv[1:]],
                                show_test_names=not args.hide_test_names,
                                cluster=args.cluster, deadlines=deadlines, server_zone=zone,
                                overrides=overrides, alongside=alongside)
    except KeyboardInterrupt:
        console.print(f"interrupted: {len(done)} result(s) of this run are stored in "
                      f"{args.out / DB_NAME}; run the same command again to resume.", markup=False)
        return 130
    with Gradebook.open(args.out / DB_NAME, create=False) as book:
        set_source(book.connection, args.assignment, args.submissions)  # for `report`
        if args.timezone and not args.deadline:  # the zone times are shown in, kept
            set_zone(book.connection, args.assignment, args.timezone)
    report = _write_report(args.assignment, args.out, args.submissions, console)
    if not args.quiet:
        id_notes = [(r.student_id, n) for r in outcome.results for n in r.notes
                    if ID_NOTE in n or CLASH_NOTE in n or "ambiguous" in n]
        for student, note in id_notes[:MESSAGES]:
            console.print(f"  {student}: {note}", markup=False)
    if not outcome.results:
        console.print(f"WARNING: no submission found in {args.submissions}: looked for "
                      f"{LOOKED_FOR}", markup=False)
    if deadlines is not None:
        found = {r.student_id for r in outcome.results}
        unknown = sorted(set(deadlines.extensions) - found)
        if unknown:
            console.print(f"WARNING: {args.extensions}: no submission for {', '.join(unknown)} "
                          "(extension unused; check the id)", markup=False)
    if args.blackboard_grade_center is not None:
        from .gradebook.lms import write_assignment_upload  # only here: it reads course.gradecenter

        with Gradebook.open(args.out / DB_NAME, create=False) as book:
            receipts = ledger.Adjustments(book.connection, args.assignment).info.values()
        titles = [str(info.get("assignment", "")) for info in receipts]  # receipts' Assignment:
        upload, skipped = write_assignment_upload(args.out, args.assignment,
                                                  args.blackboard_grade_center,
                                                  args.blackboard_column, titles)
        console.print(f"wrote {upload} (Blackboard: Grade Center > Work Offline > Upload)",
                      markup=False)
        if skipped:
            console.print(f"not in the Grade Center file, so not in the upload: "
                          f"{', '.join(skipped)}", markup=False)
    if not args.quiet:
        _summary(outcome, console, report)  # last: it ends with the report's path
    elif report is not None:
        console.print("report: ", Text(str(report)), sep="")
    return 1 if any(r.status == "error" for r in outcome.results) else 0


def _warn_orphan_overrides(args: argparse.Namespace, overrides: list[Override],
                           console: Console) -> None:
    """An override row for an id with no grading is kept (``history`` shows it), and said."""
    with Gradebook.open(args.out / DB_NAME, create=False) as book:
        orphans = without_submission(book, args.assignment, overrides)
    for student in orphans:
        console.print(f"WARNING: {args.overrides}: {student} has no submission of "
                      f"{args.assignment}; the regrade is stored (history shows it) but counts "
                      "nowhere until a submission is graded (check the id)", markup=False)


def _check(args: argparse.Namespace, console: Console) -> int:
    report = check_notebook(args.notebook, args.assignment)
    console.print(render(report), markup=False)
    return 0 if report.passed else 1


def _bundle(args: argparse.Namespace, console: Console) -> int:
    path = build_bundle(args.assignment, args.out, show_test_names=not args.hide_test_names)
    console.print(f"wrote {path}: upload it as the Gradescope autograder of {args.assignment} "
                  "(base image Ubuntu 22.04 or newer)", markup=False)
    return 0


def _summary(outcome: BatchOutcome, console: Console, report: Path | None) -> None:
    results = outcome.results
    header = [(f"run {outcome.run_id}: {len(results)} submission(s), {len(outcome.graded)} graded "
               f"now, {len(outcome.reused)} stored result(s) reused; {outcome.gradebook} has "
               f"{outcome.exported} row(s)")]
    print_summary(console, results, header=header, report=report, warning=outcome.warning,
                  counts_tail=f"; seed {outcome.seed}; {outcome.seconds:.1f} s",
                  slowest_of=set(outcome.graded))


def _write_report(assignment: str, out: Path, submissions: Path | None,
                  console: Console) -> Path | None:
    """The TA report; a failure here is reported but never undoes or fails the grading."""
    try:
        return write_report(assignment, out, submissions)
    except Exception as exc:  # noqa: BLE001 - grading is stored; the report can be rebuilt
        console.print(f"autograder: the report could not be written ({type(exc).__name__}: "
                      f"{exc}); the grades are stored: run `python -m autograder report "
                      f"{assignment} --out {out} --submissions {submissions}`", markup=False)
        return None


def _report(args: argparse.Namespace, console: Console) -> int:
    path = write_report(args.assignment, args.out, args.submissions)
    console.print("report: ", Text(str(path)), sep="")
    return 0


def _history(args: argparse.Namespace, console: Console) -> int:
    for line in history_lines(args.out / DB_NAME, args.assignment, args.student):
        console.print(line, markup=False)
    return 0
