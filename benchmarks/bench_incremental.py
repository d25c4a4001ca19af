"""Benchmark: what a re-run costs when nothing, or one notebook, changed.

    .venv/bin/python benchmarks/bench_incremental.py hw1            # 200 notebooks
    .venv/bin/python benchmarks/bench_incremental.py hw1 --n 50 --repeat 3

Runs the TA's command, ``python -m autograder grade NAME SUBMISSIONS --out OUT``
(grading, exports and the report with its similarity), as a subprocess:

1. ``full``: a fresh OUT folder (every notebook graded), ``--full-repeat`` times;
2. ``unchanged``: the same command again, ``--repeat`` times;
3. ``one_changed``: one notebook edited (a comment cell appended: it is graded
   again, its fingerprints computed again), ``--repeat`` times, another each time;
   ``one_rescored``: one filled notebook replaced by the untouched skeleton (its score
   moves, so the report's figures are drawn again too), ``--repeat`` times, another each
   time;
4. ``startup``: ``python -c "import autograder.cli"`` alone, ``--repeat`` times,
   the floor of any run.

Prints medians in seconds with the load average at each, and the ratio of a
one-changed run to the full run. Not a test: it depends on the machine (which
may be shared: only figures from the same run compare). Writes
``results/incremental-NAME.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import nbformat
from corpus import make_class  # (after the sys.path line)


def timed(command: list[str]) -> dict[str, float]:
    load = os.getloadavg()[0]
    started = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return {"seconds": round(time.perf_counter() - started, 3), "load": round(load, 2)}


def median(runs: list[dict[str, float]]) -> dict[str, object]:
    return {"median_s": round(statistics.median(r["seconds"] for r in runs), 3),
            "loads": [r["load"] for r in runs], "runs_s": [r["seconds"] for r in runs]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("assignment", nargs="?", default="hw1")
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--full-repeat", type=int, default=1, help="full runs (fresh OUT each)")
    parser.add_argument("--seed", type=int, default=474)
    args = parser.parse_args(argv)
    python = sys.executable
    figures: dict[str, object] = {"assignment": args.assignment, "n": args.n,
                                  "cpus": len(os.sched_getaffinity(0))}
    with tempfile.TemporaryDirectory(prefix="bench-incremental-") as tmp:
        subs, out = Path(tmp) / "subs", Path(tmp) / "out"
        figures["kinds"] = dict(make_class(args.assignment, args.n, subs, args.seed))
        grade = [python, "-m", "autograder", "grade", args.assignment, str(subs),
                 "--out", str(out), "--seed", str(args.seed), "--quiet"]
        fulls = []
        for _ in range(args.full_repeat):  # each from a fresh OUT folder
            shutil.rmtree(out, ignore_errors=True)
            fulls.append(timed(grade))
        figures["full"] = median(fulls)
        figures["unchanged"] = median([timed(grade) for _ in range(args.repeat)])
        readable = [p for p in sorted(subs.glob("*.ipynb")) if _readable(p)]
        changed = []
        for k in range(args.repeat):
            path = readable[k * 7 % len(readable)]
            notebook = nbformat.read(path, as_version=4)
            notebook.cells.append(nbformat.v4.new_code_cell(f"# edited {k}"))
            nbformat.write(notebook, path)
            changed.append(timed(grade))
        figures["one_changed"] = median(changed)
        skeleton = (ROOT / "assignments" / args.assignment / f"{args.assignment}.ipynb").read_bytes()
        filled = [p for p in readable if p.read_bytes() != skeleton]  # each one a change
        rescored = []
        for k in range(args.repeat):  # a resubmission that moves the score: the figures too
            filled[(k * 7 + 3) % len(filled)].write_bytes(skeleton)
            rescored.append(timed(grade))
        figures["one_rescored"] = median(rescored)
        figures["startup"] = median([timed([python, "-c", "import autograder.cli"])
                                     for _ in range(args.repeat)])
    full = figures["full"]["median_s"]  # type: ignore[index]
    one = figures["one_changed"]["median_s"]  # type: ignore[index]
    figures["one_changed_over_full"] = round(one / full, 3)
    rescored = figures["one_rescored"]["median_s"]  # type: ignore[index]
    figures["one_rescored_over_full"] = round(rescored / full, 3)
    for key in ("full", "unchanged", "one_changed", "one_rescored", "startup"):
        print(f"{key:12} {figures[key]}")
    print(f"one changed / full: {figures['one_changed_over_full']:.1%}; "
          f"one rescored / full: {figures['one_rescored_over_full']:.1%}")
    results = ROOT / "benchmarks" / "results" / f"incremental-{args.assignment}.json"
    results.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"wrote {results}")
    return 0


def _readable(path: Path) -> bool:
    try:
        nbformat.read(path, as_version=4)
    except Exception:  # noqa: BLE001 - the truncated ones
        return False
    return True


if __name__ == "__main__":
    raise SystemExit(main())
