"""What ``grade`` prints at the end: a table that fits the terminal, counts, and where to look.

The table keeps every student id and status whole (never cut to ``2023…``):
those columns do not wrap, and per-question columns (headed ``Q1``, ``Q2``...
with a legend) are added only while the table still fits the console's width;
the per-question points of the others are in gradebook.csv and the report.
Larger batches get no table at all, only the counts. The last line is the
report's path.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from . import attention
from .results import STATUSES, SubmissionResult

TABLE_ROWS = 40  # larger batches: see gradebook.csv and the report
MESSAGES = 20


def print_summary(console: Console, results: Sequence[SubmissionResult], *, header: list[str],
                  report: Path | None, counts_tail: str = "", warning: str | None = None,
                  slowest_of: set[str] | None = None) -> None:
    if warning:
        console.print(f"WARNING: sandbox weakened: {warning}. Student code ran without "
                      "namespaces (docs/gradescope.md says what still holds).",
                      style="bold red", markup=False)
    results = sorted(results, key=lambda r: r.student_id)
    if results and len(results) <= TABLE_ROWS:
        table, legend = results_table(results, console.width)
        console.print(table)
        if legend:
            console.print(legend, markup=False)
    lines = list(header)
    counts = Counter(r.status for r in results)
    lines.append(", ".join(f"{counts[s]} {s}" for s in STATUSES if counts[s]) + counts_tail)
    scored = [r.score for r in results if r.status != "missing"]
    if scored:
        lines.append(f"score (of {results[0].max_score:g}): mean {statistics.fmean(scored):.1f}, "
                     f"median {statistics.median(scored):g}, min {min(scored):g}, "
                     f"max {max(scored):g}")
    slowest = sorted((r for r in results if slowest_of is None or r.student_id in slowest_of),
                     key=lambda r: r.seconds, reverse=True)[:3]
    if slowest:
        lines.append("slowest: " + ", ".join(f"{r.student_id} {r.seconds:.2f} s" for r in slowest))
    for line in lines:
        console.print(line, markup=False)
    problems = [r for r in results if r.message]
    for r in problems[:MESSAGES]:
        console.print(f"  {r.student_id}: {r.status}: {r.message}", markup=False)
    if len(problems) > MESSAGES:
        console.print(f"  ... and {len(problems) - MESSAGES} more (see the report)", markup=False)
    look = [(r.student_id, why) for r in results if (why := attention.reasons(r))]
    if look:
        console.print(f"needs a person ({len(look)}): late, receipt comments, regrades",
                      markup=False)
    for student, why in look[:MESSAGES]:
        console.print(f"  {student}: {'; '.join(why)}", markup=False)
    if len(look) > MESSAGES:
        console.print(f"  ... and {len(look) - MESSAGES} more (see the report)", markup=False)
    if report is not None:
        console.print("report: ", Text(str(report)), sep="")


def results_table(results: list[SubmissionResult], width: int) -> tuple[Table, str]:
    """The table, with as many question columns as fit in ``width``; and their legend."""
    ids = max(len("student"), *(len(r.student_id) for r in results))
    statuses = max(len("status"), *(len(r.status) for r in results))
    scores = [f"{r.score:g}/{r.max_score:g}" for r in results]
    used = ids + statuses + max(5, *map(len, scores)) + 3 * 2  # padding: one space each side
    questions = list(results[0].questions)
    shown = []
    for n, question in enumerate(questions, 1):
        cells = [f"{r.question_scores().get(question, 0.0):g}" for r in results]
        column = max(len(f"Q{n}"), *map(len, cells)) + 2
        if used + column > width:
            break
        used += column
        shown.append(question)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), show_edge=False)
    table.add_column("student", no_wrap=True, min_width=ids, overflow="fold")
    table.add_column("status", no_wrap=True, min_width=statuses)
    table.add_column("score", justify="right", no_wrap=True)
    for n, _ in enumerate(shown, 1):
        table.add_column(f"Q{n}", justify="right", no_wrap=True)
    for r, score in zip(results, scores, strict=True):
        earned = r.question_scores()
        table.add_row(Text(r.student_id), r.status, score,
                      *(f"{earned.get(q, 0.0):g}" for q in shown))
    legend = ", ".join(f"Q{n} {q}" for n, q in enumerate(shown, 1))
    if len(shown) < len(questions):
        legend += f" ({len(questions) - len(shown)} more in gradebook.csv and the report)"
    return table, legend
