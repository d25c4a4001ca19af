"""Profile: where one warm grading process spends its time per submission, any assignment.

    .venv/bin/python benchmarks/phases.py               # hw1: 40 submissions, 5 warm-up
    .venv/bin/python benchmarks/phases.py hw1 --n 80 --json out.json
    .venv/bin/python benchmarks/phases.py hw2 --n 6 --warmup 1 --only 2023001
    .venv/bin/python benchmarks/phases.py hw2 --n 6 --warmup 1 --only 2023001 --all-cells

Runs ``grading.grade_submission`` on the notebooks of ``corpus.make_class``
(HW1: the generated mix of ``bench_grading.py``; another assignment: its
examples, or only those named with ``--only``) one after the other in *this* process, as one grading
process of the pool does, and times its phases by wrapping the functions it
calls (profiling only; nothing here changes what is graded):

* ``read``: ``read_notebook``;
* ``spawn``: a worker forked from the warm zygote (``StudentSession._new_worker``);
* ``cells``: the notebook's cells (the rest of ``StudentSession.start``);
* ``graders``: ``run_graders`` (the hidden tests), of which ``calls`` is the
  time spent in the graders' calls to the worker (``StudentSession.call``/``get``)
  and ``pytest`` the rest (pytest's machinery and the graders' own Python);
* ``close``: ``StudentSession.close`` (the zygote's cleanup is waited for by the
  next spawn, so part of it shows up there);
* ``total``: the whole ``grade_submission``;
* ``cpu_trusted``: CPU time of this process over the submission (all its threads,
  the graders' pytest thread included); ``cpu_sandbox``: CPU time the whole machine
  spent over the same interval (``/proc/stat``) minus ``cpu_trusted``: the zygote,
  the worker and bubblewrap, plus whatever else runs on the machine (run it quiet).

Prints the median (and p90) per phase in ms, the number of round trips, and the load.
The first ``--warmup`` submissions (cold imports, the zygote's start) are not counted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from corpus import make_class  # (after the sys.path lines)

from autograder.grading import grade, session
from autograder.grading.catalog import Assignment
from autograder.intake.find import find_submissions

PHASES = ("read", "spawn", "cells", "graders", "calls", "pytest", "close", "total",
          "cpu_trusted", "cpu_sandbox")


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot (``/proc/stat``)."""
    with open("/proc/stat") as stat:
        ticks = [int(field) for field in stat.readline().split()[1:]]
    idle = ticks[3] + ticks[4]  # idle, iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


class Phases:
    """Accumulates the time spent in wrapped functions, per submission."""

    def __init__(self) -> None:
        self.current: dict[str, float] = defaultdict(float)
        self.counts: dict[str, int] = defaultdict(int)
        self.rows: list[dict[str, float]] = []

    def wrap(self, owner: Any, name: str, phase: str) -> None:
        original: Callable[..., Any] = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.current[phase] += time.perf_counter() - started
                self.counts[phase] += 1

        setattr(owner, name, timed)

    def finish(self) -> dict[str, float]:
        row = dict(self.current)
        row["cells"] = row.get("start", 0.0) - row.get("spawn", 0.0)
        row["pytest"] = row.get("graders", 0.0) - row.get("calls", 0.0)
        row["round_trips"] = self.counts.get("calls", 0)
        self.rows.append(row)
        self.current.clear()
        self.counts.clear()
        return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("assignment", nargs="?", default="hw1")
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--only", nargs="*", help="example notebooks to use (not hw1's mix)")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--json", type=Path, help="also write the per-phase medians here")
    parser.add_argument("--all-cells", action="store_true",
                        help="run the demonstration cells too (as before they were skipped)")
    args = parser.parse_args(argv)
    if args.all_cells:  # profiling only: the assignment as if it tagged no cell ``demo``
        Assignment.demo_cells = property(lambda self: frozenset())  # type: ignore[method-assign,assignment]
    phases = Phases()
    phases.wrap(grade, "read_notebook", "read")
    phases.wrap(session.StudentSession, "_new_worker", "spawn")
    phases.wrap(session.StudentSession, "start", "start")
    phases.wrap(grade, "run_graders", "graders")
    phases.wrap(session.StudentSession, "_ask", "calls")
    phases.wrap(session.StudentSession, "close", "close")
    assignment = Assignment.find(args.assignment)
    with tempfile.TemporaryDirectory(prefix="phases-") as tmp:
        make_class(args.assignment, args.n + args.warmup, Path(tmp) / "subs", args.seed,
                   args.only)
        submissions = [s for s in find_submissions(Path(tmp) / "subs", Path(tmp) / "work")
                       if not s.problem]
        statuses: dict[str, int] = defaultdict(int)
        for submission in submissions:
            started, cpu, busy = time.perf_counter(), time.process_time(), machine_busy_seconds()
            result = grade.grade_submission(assignment, submission, seed=args.seed)
            phases.current["total"] = time.perf_counter() - started
            phases.current["cpu_trusted"] = time.process_time() - cpu
            phases.current["cpu_sandbox"] = (machine_busy_seconds() - busy
                                             - phases.current["cpu_trusted"])
            phases.finish()
            statuses[result.status] += 1
    rows = phases.rows[args.warmup:]
    medians = {p: 1000 * statistics.median(r.get(p, 0.0) for r in rows) for p in PHASES}
    p90 = {p: 1000 * statistics.quantiles([r.get(p, 0.0) for r in rows], n=10)[-1]
           for p in PHASES}
    trips = statistics.median(r["round_trips"] for r in rows)
    print(f"{args.assignment}{' (every cell run)' if args.all_cells else ''}: {len(rows)} warm submissions (after {args.warmup} warm-up), statuses {dict(statuses)}")
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    print(f"{'phase':<10}{'median ms':>10}{'p90 ms':>10}")
    for p in PHASES:
        print(f"{p:<10}{medians[p]:>10.1f}{p90[p]:>10.1f}")
    print(f"graders' calls to the worker per submission: median {trips:g}")
    if args.json:
        args.json.write_text(json.dumps({"medians_ms": medians, "p90_ms": p90,
                                         "round_trips": trips, "n": len(rows),
                                         "assignment": args.assignment,
                                         "load": os.getloadavg()}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
