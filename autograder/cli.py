"""``python -m autograder``: assembles the commands; the work happens elsewhere.

One place maps the project's errors to exit codes and one-line messages:
0 success, 1 the run finished but some submissions could not be graded
(status ``error``), 2 bad arguments or input.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from .batch import BatchOutcome, grade_all
from .errors import AutograderError
from .results import STATUSES, SubmissionResult
from .sandbox import Limits


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m autograder",
                                     description="Sandboxed autograder for course notebooks.")
    commands = parser.add_subparsers(dest="command", required=True)
    grade = commands.add_parser("grade", help="grade a folder or zip of submissions",
                                description="Grade every submission with the hidden graders.")
    grade.add_argument("assignment", help="assignment name, e.g. hw1")
    grade.add_argument("submissions", type=Path, help="folder or .zip of submitted notebooks")
    grade.add_argument("--out", type=Path, required=True, help="output folder")
    grade.add_argument("--jobs", type=int, default=None, help="parallel graders (default: all cores)")
    grade.add_argument("--seed", type=int, default=None, help="seed of the hidden inputs (default: random, recorded)")
    defaults = Limits()
    grade.add_argument("--cell-timeout", type=float, default=defaults.cell_seconds, metavar="S",
                       help="wall-clock seconds per notebook cell (default %(default)s)")
    grade.add_argument("--call-timeout", type=float, default=defaults.call_seconds, metavar="S",
                       help="default wall-clock seconds per graded call (default %(default)s)")
    grade.add_argument("--submission-timeout", type=float, default=defaults.submission_seconds,
                       metavar="S", help="wall-clock seconds per submission (default %(default)s)")
    grade.add_argument("--cpu", type=int, default=defaults.cpu_seconds, metavar="S",
                       help="CPU seconds per worker process (default %(default)s)")
    grade.add_argument("--memory-mb", type=int, default=defaults.memory_bytes // 2**20,
                       help="address-space limit of the worker in MiB (default %(default)s)")
    grade.add_argument("--processes", type=int, default=defaults.processes,
                       help="processes/threads the worker may have (default %(default)s)")
    grade.add_argument("--quiet", action="store_true", help="no progress bar or table")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
    try:
        if args.command == "grade":
            return _grade(args, console)
    except AutograderError as exc:
        console.print(f"autograder: error: {exc}", markup=False)
        return 2
    except ValueError as exc:
        console.print(f"autograder: error: {exc}", markup=False)
        return 2
    return 2


def _grade(args: argparse.Namespace, console: Console) -> int:
    limits = Limits(cell_seconds=args.cell_timeout, call_seconds=args.call_timeout,
                    submission_seconds=args.submission_timeout, cpu_seconds=args.cpu,
                    memory_bytes=args.memory_mb * 2**20, processes=args.processes)
    progress = Progress(TextColumn("grading {task.description}"), BarColumn(),
                        MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
                        TimeRemainingColumn(), console=console,
                        disable=args.quiet or not console.is_terminal)
    task = progress.add_task(args.assignment, total=None, rate="")
    done: list[SubmissionResult] = []

    def on_result(result: SubmissionResult) -> None:
        done.append(result)
        if progress.disable and not args.quiet:
            console.print(f"[{len(done)}] {result.student_id}: {result.status} "
                          f"{result.score:g}/{result.max_score:g}", markup=False)
        progress.update(task, advance=1, rate=f"{result.student_id}")

    with progress:
        outcome = grade_all(args.assignment, args.submissions, args.out, jobs=args.jobs,
                            seed=args.seed, limits=limits, on_result=on_result,
                            on_start=lambda n: progress.update(task, total=n))
    if not args.quiet:
        _summary(outcome, console)
    return 1 if any(r.status == "error" for r in outcome.results) else 0


def _summary(outcome: BatchOutcome, console: Console) -> None:
    if outcome.warning:
        console.print(f"WARNING: sandbox weakened: {outcome.warning}. Student code ran with "
                      "resource limits only. Install bubblewrap (apt-get install bubblewrap).",
                      style="bold red", markup=False)
    results = sorted(outcome.results, key=lambda r: r.student_id)
    questions = list(results[0].questions) if results else []
    table = Table(title=f"Gradebook: {outcome.gradebook}")
    for column in ["student_id", "status", "score", *questions]:
        table.add_column(column, justify="left" if column in ("student_id", "status") else "right")
    for r in results:
        earned = r.question_scores()
        table.add_row(r.student_id, r.status, f"{r.score:g}/{r.max_score:g}",
                      *(f"{earned[q]:g}" for q in questions))
    console.print(table)
    counts = Counter(r.status for r in results)
    console.print(", ".join(f"{counts[s]} {s}" for s in STATUSES if counts[s]) +
                  f"; seed {outcome.seed}; {outcome.seconds:.1f} s", markup=False)
    for r in results:
        if r.message:
            console.print(f"  {r.student_id}: {r.status}: {r.message}", markup=False)
