"""Benchmark: the student's ``python -m autograder check`` on HW1, cold against warm.

    .venv/bin/python benchmarks/bench_check.py            # 10 runs of each
    .venv/bin/python benchmarks/bench_check.py --n 20 --notebook my.ipynb

From the command line, as a student runs it: each run is a subprocess timed by
wall clock, on a copy of a correct HW1 notebook (``solutions/hw1/examples/
2023001.ipynb``) in a temporary folder. Cold is ``check --no-warm`` (what every
check cost before the warm path); warm is ``check`` answered by the check server
(a private server folder of this run, ``AUTOGRADER_CHECK_DIR``, stopped at the
end). The two alternate run by run, so a busy machine slows both alike. Also
timed: the first ``check`` (cold, and it starts the server) and a bare
``python -c pass`` (the interpreter's own start, which no warm path removes).
Not a test: its figures depend on the machine. Writes ``results/check.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.student import check_warm

NOTEBOOK = ROOT / "solutions" / "hw1" / "examples" / "2023001.ipynb"


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, str, int]:
    start = time.perf_counter()
    run = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    return time.perf_counter() - start, run.stdout, run.returncode


def wait_for_server(folder: Path, seconds: float = 120.0) -> int:
    sock, lock = folder / f"{check_warm.server_name()}.sock", folder / f"{check_warm.server_name()}.lock"
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if sock.exists() and lock.exists() and lock.read_text().strip().isdigit():
            return int(lock.read_text())
        time.sleep(0.1)
    raise SystemExit(f"no check server came up in {folder} within {seconds:g} s")


def summary(times: list[float]) -> dict[str, float]:
    return {"median_s": round(statistics.median(times), 3), "min_s": round(min(times), 3),
            "max_s": round(max(times), 3), "runs": len(times)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10, help="runs of each path (default 10)")
    parser.add_argument("--notebook", type=Path, default=NOTEBOOK)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "check.json")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-check-"))
    folder = Path(tempfile.mkdtemp(prefix="bc", dir="/tmp"))
    os.chmod(folder, 0o700)
    shutil.copy(args.notebook, work / "student.ipynb")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOGRADER_CHECK")}
    env.update(AUTOGRADER_CHECK_DIR=str(folder), AUTOGRADER_CHECK_IDLE="600")
    command = [sys.executable, "-m", "autograder", "check", "student.ipynb"]
    server = None
    try:
        bare = [timed([sys.executable, "-c", "pass"], work, env)[0] for _ in range(args.n)]
        first, reference, code = timed(command, work, env)
        server = wait_for_server(folder)
        cold, warm = [], []
        for _ in range(args.n):
            for times, extra in ((cold, ["--no-warm"]), (warm, [])):
                seconds, out, status = timed(command + extra, work, env)
                if (out, status) != (reference, code):
                    raise SystemExit(f"output or exit code differs ({' '.join(extra) or 'warm'})")
                times.append(seconds)
    finally:
        if server is not None:
            os.kill(server, signal.SIGTERM)
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(folder, ignore_errors=True)

    result = {"notebook": str(args.notebook.relative_to(ROOT) if args.notebook.is_relative_to(ROOT)
                              else args.notebook), "exit_code": code,
              "cold": summary(cold), "warm": summary(warm), "first_check_s": round(first, 3),
              "python_c_pass": summary(bare), "cpus": os.cpu_count(),
              "load_average": os.getloadavg(), "python": platform.python_version()}
    print(f"{'':>22} {'median':>8} {'min':>7} {'max':>7}")
    for name in ("cold", "warm", "python_c_pass"):
        row = result[name]
        print(f"{name:>22} {row['median_s']:>7.3f}s {row['min_s']:>6.3f}s {row['max_s']:>6.3f}s")
    print(f"first check (cold + starts the server): {first:.3f} s; same output and exit code "
          f"({code}) in all {2 * args.n} runs; warm is {result['cold']['median_s'] / result['warm']['median_s']:.1f}x faster")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
