"""Benchmark: the sandbox's fixed cost per submission (start + close of one warm worker).

    .venv/bin/python benchmarks/bench_worker.py [--n 200]

One grading process, one warm sandbox with HW1's public files; each round
forks a worker from the zygote (``worker_for``), asks it one trivial
``run_cell`` and closes it (kill, cleanup, the check that only the zygote is
left). Prints the median and quartiles in milliseconds. Run it from checkouts
in different places (e.g. a clone under ``/tmp``) to compare.
This is a script, not a test: its figures depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.sandbox.launch import Limits  # (after the sys.path line)
from autograder.sandbox.warm import close_sandboxes, worker_for


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    args = parser.parse_args()
    public = sorted(p for p in (ROOT / "assignments" / "hw1").iterdir()
                    if p.is_file() and p.suffix != ".ipynb")
    limits = Limits()
    worker_for(public, limits).close()  # warm up: start the sandbox once
    times = []
    for _ in range(args.n):
        start = time.perf_counter()
        worker = worker_for(public, limits)
        reply = worker.request({"op": "run_cell", "source": "x = 1"}, 5)
        worker.close()
        times.append((time.perf_counter() - start) * 1000)
        assert reply.get("status") == "ok", reply
    close_sandboxes()
    q = statistics.quantiles(times, n=4)
    print(f"{ROOT}: start+run_cell+close over {args.n}: median {statistics.median(times):.1f} ms "
          f"(quartiles {q[0]:.1f} / {q[2]:.1f} ms)")


if __name__ == "__main__":
    main()
