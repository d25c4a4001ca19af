"""Benchmark the heavy assignments (HW2, HW3): ``grade`` against ``otter run`` on the same
correct notebooks.

    .venv/bin/python benchmarks/bench_heavy.py hw2        # 8 notebooks, otter on all 8
    .venv/bin/python benchmarks/bench_heavy.py hw3 --n 4  # quicker

In one run:

1. writes N correct notebooks: HW2's correct example (``solutions/hw2/make_examples.py``'s
   answers in the skeleton), or HW3's two correct styles alternating (2023001's loops and
   functional ReLU; the Colab style with magics, modules and a DataLoader);
2. ``otter run`` on half of them (an otter autograder built with ``otter assign``
   from the assignment's own master, so it runs the same notebook and its public checks),
   then ours on all N (``grade_all``: the zygote's start included, and the hidden graders,
   which train networks that otter's public checks do not), then otter on the other half
   (the machine's drift weighs on both sides alike); torch runs on one thread on both
   sides (``OMP_NUM_THREADS=1`` for otter's kernels);
3. the engine's own overhead per submission: ours on K notebooks whose only cell is an
   import (``import torch`` for HW3; every test then fails at once on a missing name), so
   a submission's time is the fork of the warm zygote, the cell, one pytest session of the
   graders and the records: everything but the student's work;
4. prints medians and ratios and writes ``benchmarks/results/heavy-ASSIGNMENT.json``.

The otter helpers (memory sampler, ``otter run`` per notebook, the machine) are
``bench_grading.py``'s. A script, not a test: it takes minutes, and the machine may be
shared, so only ratios measured side by side in one run mean much.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_grading import (
    ROOT,
    TreeMemory,
    build_otter,
    combine_otter,
    drop,
    grade_otter,
    machine,
    write_figures,
)

from autograder.batch.run import default_jobs, grade_all

HEAVY = ("hw2", "hw3")
IMPORT = {"hw2": "import numpy as np", "hw3": "import torch"}


def load_examples(assignment: str) -> ModuleType:
    path = ROOT / "solutions" / assignment / "make_examples.py"
    spec = importlib.util.spec_from_file_location(f"{assignment}_make_examples", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_correct(assignment: str, n: int, folder: Path) -> list[Path]:
    import nbformat

    examples = load_examples(assignment)
    styles = [examples.filled(examples.CORRECT)]
    if assignment == "hw3":
        styles.append(examples.colab())
    folder.mkdir(parents=True)
    paths = [folder / f"c{i:03d}.ipynb" for i in range(n)]
    for i, path in enumerate(paths):
        nbformat.write(styles[i % len(styles)], path)
    return paths


def make_empty(assignment: str, k: int, folder: Path) -> None:
    import nbformat

    folder.mkdir(parents=True)
    cell = nbformat.v4.new_code_cell(IMPORT[assignment])
    notebook = nbformat.v4.new_notebook(cells=[cell])
    for i in range(k):
        nbformat.write(notebook, folder / f"e{i:03d}.ipynb")


def grade_ours(assignment: str, submissions: Path, out: Path, jobs: int,
               seed: int) -> dict[str, Any]:
    with TreeMemory(os.getpid()) as memory:
        started = time.monotonic()
        outcome = grade_all(assignment, submissions, out, jobs=jobs, seed=seed, force=True)
        wall = time.monotonic() - started
    seconds = [r.seconds for r in outcome.results]
    return {"n": len(seconds), "jobs": jobs, "batch_wall_s": wall,
            "wall_per_submission_s": wall / len(seconds),
            "median_submission_s": statistics.median(seconds),
            "submission_s": sorted(seconds),
            "scores": {r.student_id: r.score for r in outcome.results},
            "statuses": sorted({r.status for r in outcome.results}),
            "peak_rss_tree_mb": memory.peak_bytes / 2**20,
            "sandbox": outcome.warning or "bubblewrap"}


def report(assignment: str, figures: dict[str, Any]) -> str:
    ours, otter, empty, m = figures["ours"], figures["otter"], figures["empty"], figures["machine"]
    per_ours, per_otter = ours["wall_per_submission_s"], otter["effective_wall_per_notebook_s"]
    return "\n".join([
        (f"{assignment.upper()}, {ours['n']} correct notebooks; {m['usable_cpus']} CPUs, "
        f"load at the end {m['loadavg_at_end'][0]:.1f}; sandbox {ours['sandbox']}"),
        (f"ours  (grade_all, {ours['jobs']} jobs): batch {ours['batch_wall_s']:.1f} s ("
        f"zygote start included) = {per_ours:.2f} s per notebook; median submission "
        f"{ours['median_submission_s']:.2f} s; scores {sorted(set(ours['scores'].values()))}"),
        (f"otter run ({otter['parallel']} at a time, {otter['sample']} notebooks): "
        f"{per_otter:.2f} s per notebook; median run {otter['median_wall_per_notebook_s']:.2f} s;"
        f" failed runs {otter['failed_runs']}"),
        (f"ratio per notebook (otter / ours): {per_otter / per_ours:.2f}x; medians: "
        f"{otter['median_wall_per_notebook_s'] / ours['median_submission_s']:.2f}x"),
        (f"engine overhead per submission (notebook = `{IMPORT[assignment]}`, {empty['n']} "
        f"of them, every test run): median {empty['median_submission_s']:.3f} s"),
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("assignment", choices=HEAVY)
    parser.add_argument("--n", type=int, default=8, help="correct notebooks (otter runs all)")
    parser.add_argument("--empty", type=int, default=8, help="notebooks of one import")
    parser.add_argument("--jobs", type=int, default=default_jobs(), help="our parallel graders")
    parser.add_argument("--otter-parallel", type=int, default=2, help="otter runs at a time")
    parser.add_argument("--seed", type=int, default=474)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    if args.n < 2 or args.empty < 1:
        parser.error("needs --n 2 or more and --empty 1 or more")
    # torch on one thread on both sides: our zygote sets it; otter's kernels inherit this
    # (with torch's default pool, a loaded machine makes the notebook's training cell ~25x
    # slower, which would flatter us)
    os.environ["OMP_NUM_THREADS"] = "1"
    name = args.assignment
    results = HERE / "results" / f"heavy-{name}.json"
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
    try:
        notebooks = make_correct(name, args.n, workdir / "correct")
        make_empty(name, args.empty, workdir / "empty")
        autograder = build_otter(workdir / "otter" / "assign", name)
        halves = [notebooks[: args.n // 2], notebooks[args.n // 2:]]
        batches = [grade_otter(halves[0], autograder, workdir / "otter" / "runs",
                               args.otter_parallel)]
        print(f"otter: first {len(halves[0])} done", flush=True)
        ours = grade_ours(name, workdir / "correct", workdir / "ours", args.jobs, args.seed)
        print(f"ours: {ours['batch_wall_s']:.1f} s", flush=True)
        empty = grade_ours(name, workdir / "empty", workdir / "ours-empty", args.jobs, args.seed)
        print(f"overhead batch: {empty['batch_wall_s']:.1f} s", flush=True)
        batches.append(grade_otter(halves[1], autograder, workdir / "otter" / "runs",
                                   args.otter_parallel))
        figures = {"argv": sys.argv, "machine": machine(), "ours": ours, "empty": empty,
                   "otter": combine_otter(batches)}
        write_figures(results, figures, report(name, figures))
    finally:
        drop(workdir, args.keep)
    return 0


if __name__ == "__main__":
    sys.exit(main())
