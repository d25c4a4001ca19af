"""Benchmark: the report's similarity check on N HW1 notebooks (default 1,000).

    .venv/bin/python benchmarks/bench_similarity.py             # N=1000, 3 repeats
    .venv/bin/python benchmarks/bench_similarity.py --n 300

The notebooks are ``bench_grading.make_submissions``'s (the skeleton filled
with correct, wrong or no answers; some truncated or untouched). Those come
from a handful of variants, so most code is shared by hundreds of students,
which the check ignores. To also time realistic, mostly unique code, a second
set ("varied") adds three lines with random numbers to each answer cell of
every notebook, and plants ``--planted`` copied pairs (the copy reformatted,
its names changed and a comment added) whose recall is reported.

Timed (wall clock and this process's CPU time, which a busy machine inflates
less), the report's own path: reading the notebooks, splitting them into
questions and fingerprinting (``fingerprint_store``: the first run from an
empty store, in parallel; the median of the others from the store), then
``Index.pairs`` and the lines of the pairs found. Peak RSS of this process. Not a
test: its figures depend on the machine. Writes ``results/similarity.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import nbformat
from bench_grading import load_examples, make_submissions

from autograder.grading.catalog import Assignment
from autograder.report.fingerprint_store import file_sha256, fingerprints
from autograder.report.similarity import Index, Skeleton, cells_of, student_code

RESULTS = ROOT / "benchmarks" / "results" / "similarity.json"


def vary(folder: Path, seed: int, planted: int) -> list[tuple[str, str]]:
    """Add random lines to every answer cell; copy ``planted`` notebooks onto others."""
    rng = random.Random(seed)
    paths = sorted(folder.glob("*.ipynb"))
    readable = []
    for path in paths:
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception:  # noqa: BLE001, S112 - the truncated ones stay as they are
            continue
        for cell in nb.cells:
            if "otter_answer_cell" in cell.get("metadata", {}).get("tags", []):
                extra = "".join(f"\n_scratch{k} = [{rng.randrange(10**6)}, "
                                f"{rng.randrange(10**6)}] * {rng.randrange(9)}"
                                for k in range(3))
                cell.source += extra
        nbformat.write(nb, path)
        readable.append(path)
    pairs = []
    for source, target in zip(rng.sample(readable, planted), rng.sample(readable, planted),
                              strict=True):
        if source == target:
            continue
        nb = nbformat.read(source, as_version=4)
        for cell in nb.cells:
            if "otter_answer_cell" in cell.get("metadata", {}).get("tags", []):
                cell.source = "# my own solution\n" + re.sub(
                    r"\by_hat\b", "prediction", cell.source).replace(" = ", "=")
        nbformat.write(nb, target)
        pairs.append(tuple(sorted((source.stem, target.stem))))
    return pairs


def measure(folder: Path, skeleton: Skeleton, store: Path) -> tuple[float, float, list, float]:
    """The report's path: fingerprints (stored in ``store``, computed in parallel when many
    are new) streamed into an ``Index``, then its pairs with their lines."""
    cpu = time.process_time()
    started = time.perf_counter()
    notebooks = [(p.stem, p, file_sha256(p)) for p in sorted(folder.glob("*.ipynb"))]
    index = Index(skeleton)
    for student, prints in fingerprints(skeleton, notebooks, store):
        index.add(student, prints)
    read = time.perf_counter() - started
    started = time.perf_counter()
    pairs = index.pairs()
    paths = {sid: path for sid, path, _ in notebooks}
    shown = {p.a for p in pairs} | {p.b for p in pairs}
    pairs = index.with_lines(pairs, {s: student_code(skeleton, cells_of(paths[s]))
                                     for s in shown})
    return read, time.perf_counter() - started, pairs, time.process_time() - cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--planted", type=int, default=10)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args(argv)
    assignment = Assignment.find("hw1")
    skeleton = Skeleton.from_notebook(assignment.public_dir / "hw1.ipynb", assignment.questions)
    figures: dict[str, object] = {"n": args.n, "machine": platform.platform(),
                                  "cpus": len(os.sched_getaffinity(0)),
                                  "load_average_at_start": os.getloadavg(),
                                  "python": platform.python_version()}
    with tempfile.TemporaryDirectory(prefix="bench-similarity-") as tmp:
        folder = Path(tmp) / "subs"
        kinds = make_submissions(load_examples(), args.n, folder, args.seed)
        figures["kinds"] = dict(kinds)
        for label in ("generated", "varied"):
            planted = vary(folder, args.seed, args.planted) if label == "varied" else []
            # the first run from an empty store (every notebook fingerprinted), the others
            # from the store the first filled (what a re-run of the report costs)
            store = Path(tmp) / f"store-{label}"
            runs = [measure(folder, skeleton, store) for _ in range(args.repeat)]
            reads = [r[0] for r in runs]
            compares = [r[1] for r in runs]
            found = {(p.a, p.b) for p in runs[0][2] if p.score >= 0.6}
            figures[label] = {
                "read_and_fingerprint_first_s": round(reads[0], 2),
                "read_stored_s": round(statistics.median(reads[1:] or reads), 2),
                "compare_s": round(statistics.median(compares), 2),
                "total_first_s": round(reads[0] + compares[0], 2),
                "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                "cpu_s": round(statistics.median(r[3] for r in runs), 2),
                "pairs_at_60pct": len(found),
                "planted": len(planted),
                "planted_found": sum(p in found for p in planted),
            }
            print(f"{label}: {args.n} notebooks: {figures[label]}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
