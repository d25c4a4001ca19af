"""Benchmark: memory and time of one ``grade`` run as the class grows.

    .venv/bin/python benchmarks/bench_scale.py hw1 --n 10000
    .venv/bin/python benchmarks/bench_scale.py hw1 --n 10000 --report-only

Writes N notebooks (``corpus.make_class``), then runs the TA's command
``python -m autograder grade NAME SUBS --out OUT`` (grading, exports, report and
its similarity) as a subprocess while ``bench_grading.TreeMemory`` samples the
summed resident memory of that process and all its descendants (the grading
processes, zygotes and sandboxes included) every 0.1 s, and that process's own
(``main_peak_mib``), the load average (mean and max over the run), and the CPU time of
the command (``RUSAGE_CHILDREN``: it and the children it waited for; workers of
a forkserver pool are not among them, so it is a floor). Then the report again
with only its stamp removed (``report_stored``: the fingerprints ``grade`` stored
while grading are used, as in the run), and, with the fingerprint store removed
too, ``python -m autograder report NAME --out OUT --submissions SUBS`` alone,
sampled the same way: the report from scratch.
``--report-only``: no grading; a gradebook with one ``graded`` record per
notebook (its score made up: only the report's own cost is measured) is
written directly, then the report is run as above. Prints peak MiB, wall seconds, the
similarity's own seconds (from the report's note) and the load. Writes
``results/scale-NAME-N.json``. Not a test: it takes minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_grading import TreeMemory  # (after the sys.path lines)
from corpus import make_class


class TreeAndMain(TreeMemory):
    """``TreeMemory``, plus the peak of the command's own process and the load average."""

    def __init__(self, root_pid: int) -> None:
        super().__init__(root_pid)
        self.main_peak_bytes = 0
        self.loads: list[float] = []

    def sample(self) -> tuple[int, int]:
        found = super().sample()
        try:
            with open(f"/proc/{self.root_pid}/statm", "rb") as handle:
                pages = int(handle.read().split()[1])
        except (OSError, IndexError, ValueError):  # exited meanwhile
            pages = 0
        self.main_peak_bytes = max(self.main_peak_bytes, pages * os.sysconf("SC_PAGE_SIZE"))
        if self.samples % 50 == 0:  # every 5 s
            self.loads.append(os.getloadavg()[0])
        return found


def sampled(command: list[str]) -> dict[str, float]:
    load = os.getloadavg()[0]
    started, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
    with TreeAndMain(process.pid) as memory:
        code = process.wait()
    if code != 0:
        raise SystemExit(f"{command[3]} exited with {code}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the waited-for tree's CPU time
    loads = memory.loads or [load]
    return {"seconds": round(time.perf_counter() - started, 1),
            "cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 1),
            "peak_mib": round(memory.peak_bytes / 2**20),
            "main_peak_mib": round(memory.main_peak_bytes / 2**20),
            "load_at_start": round(load, 1), "load_at_end": round(os.getloadavg()[0], 1),
            "load_mean": round(sum(loads) / len(loads), 1), "load_max": round(max(loads), 1)}


def commit() -> str:
    """The commit the measured code is at (and whether the tree differs from it); for a
    copy made with ``git archive``, ``BENCH_COMMIT`` names it."""
    found = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT,
                           capture_output=True, text=True, check=False)
    return found.stdout.strip() or os.environ.get("BENCH_COMMIT", "unknown")


def record_without_grading(assignment_name: str, subs: Path, out: Path) -> None:
    """A gradebook with a made-up ``graded`` record per notebook (for --report-only)."""
    from autograder.gradebook.results import SubmissionResult
    from autograder.gradebook.store import DB_NAME, Gradebook
    from autograder.grading.catalog import Assignment

    assignment = Assignment.find(assignment_name)
    out.mkdir(parents=True)
    with Gradebook.open(out / DB_NAME) as book:
        run = book.start_run(assignment.name, 1, "bench", "none", ["bench_scale"])
        for number, path in enumerate(sorted(subs.glob("*.ipynb"))):
            book.add_result(run, SubmissionResult(
                student_id=path.stem, status="graded", max_score=assignment.max_score,
                questions=assignment.questions, seed=1, extra={"made_up": number}), "0" * 64)
        book.finish_run(run)


def similarity_seconds(out: Path) -> float | None:
    found = re.search(r"compared per question in ([0-9.]+) s",
                      (out / "report" / "index.html").read_text())
    return float(found.group(1)) if found else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("assignment", nargs="?", default="hw1")
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=474)
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args(argv)
    python = sys.executable
    figures: dict[str, object] = {"assignment": args.assignment, "n": args.n,
                                  "cpus": len(os.sched_getaffinity(0)), "code": commit()}
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        subs, out = Path(tmp) / "subs", Path(tmp) / "out"
        report = [python, "-m", "autograder", "report", args.assignment, "--out", str(out),
                  "--submissions", str(subs)]
        started = time.perf_counter()
        figures["kinds"] = dict(make_class(args.assignment, args.n, subs, args.seed))
        print(f"wrote {args.n} notebooks in {time.perf_counter() - started:.0f} s", flush=True)
        if args.report_only:
            record_without_grading(args.assignment, subs, out)
        else:
            figures["grade"] = sampled([python, "-m", "autograder", "grade", args.assignment,
                                        str(subs), "--out", str(out), "--seed",
                                        str(args.seed), "--quiet"])
            figures["grade"]["similarity_s"] = similarity_seconds(out)  # type: ignore[index]
            print("grade:", figures["grade"], flush=True)
            (out / "report" / ".inputs").unlink(missing_ok=True)
            figures["report_stored"] = sampled(report)
            figures["report_stored"]["similarity_s"] = similarity_seconds(out)  # type: ignore[index]
            print("report, fingerprints stored by grade:", figures["report_stored"], flush=True)
        (out / "report" / ".inputs").unlink(missing_ok=True)
        (out / ".fingerprints.sqlite").unlink(missing_ok=True)
        figures["report"] = sampled(report)
        figures["report"]["similarity_s"] = similarity_seconds(out)  # type: ignore[index]
        print("report from scratch:", figures["report"], flush=True)
    results = ROOT / "benchmarks" / "results" / f"scale-{args.assignment}-{args.n}{'-report-only' if args.report_only else ''}.json"
    results.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"wrote {results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
