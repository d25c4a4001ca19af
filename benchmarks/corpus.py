"""The notebooks the benchmarks grade, for any assignment (``make_class``).

HW1: ``bench_grading.make_submissions`` (the skeleton filled with correct, wrong
or missing answers from ``solutions/hw1/make_examples.py``; a few untouched or
truncated). Any other assignment: its example submissions
(``solutions/NAME/examples/*.ipynb``), or only those named (``only``: HW2's
correct one is ``2023001``), copied round-robin to ``sNNNNN.ipynb``.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def examples(assignment: str, only: list[str] | None = None) -> list[Path]:
    folder = ROOT / "solutions" / assignment / "examples"
    found = [p for p in sorted(folder.glob("*.ipynb")) if not only or p.stem in only]
    if not found:
        raise SystemExit(f"no example notebooks {only or ''} in {folder}")
    return found


def make_class(assignment: str, n: int, folder: Path, seed: int,
               only: list[str] | None = None) -> Counter[str]:
    """Write ``n`` notebooks of ``assignment`` into ``folder``; return what kinds."""
    if assignment == "hw1" and not only:
        from bench_grading import load_examples, make_submissions
        return make_submissions(load_examples(), n, folder, seed)
    folder.mkdir(parents=True)
    sources = examples(assignment, only)
    kinds: Counter[str] = Counter()
    for i in range(n):
        source = sources[i % len(sources)]
        shutil.copyfile(source, folder / f"s{i:05d}.ipynb")
        kinds[source.stem] += 1
    return kinds
