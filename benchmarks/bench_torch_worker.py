"""Benchmark: what one torch submission costs the engine, warm torch zygote vs lean zygote.

    .venv/bin/python benchmarks/bench_torch_worker.py [--n 30] [--lean 5]

One grading process. Each round forks a worker, runs one notebook cell, asks for a
``state_dict`` (tensors across the boundary), and closes the worker (kill, cleanup, the
check that only the zygote is left). Cells:

* ``tiny``: ``import torch`` and one small tensor: the engine's own overhead per torch
  submission (fork, a cell, a call, a result, cleanup);
* ``train``: a small CNN (conv 1->8, pool, linear) trained 3 steps with Adam on 64 random
  28 x 28 images; ``cell`` is its own time measured inside the worker, so
  ``total - cell`` is again the engine's share.

Sandboxes: ``torch`` (the manifest's ``preload = ["torch"]``: imported, one thread,
warmed before forking) and ``lean`` (HW1/HW2's zygote: each worker imports torch and
pays its first operation itself). Medians and quartiles in milliseconds, side by side
in one run. A script, not a test: its figures depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.grading.manifest import PRELOAD_LIMITS  # (after the sys.path line)
from autograder.sandbox.launch import Limits
from autograder.sandbox.warm import close_sandboxes, worker_for

CELLS = {
    "tiny": """
import time
_start = time.perf_counter()
import torch
model = {"w": torch.ones(3, 3)}
cell_seconds = time.perf_counter() - _start
""",
    "train": """
import time
_start = time.perf_counter()
import torch
from torch import nn
torch.manual_seed(0)
net = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                    nn.Linear(8 * 14 * 14, 10))
optimizer = torch.optim.Adam(net.parameters(), lr=2e-3)
x, y = torch.rand(64, 1, 28, 28), torch.randint(0, 10, (64,))
for _ in range(3):
    optimizer.zero_grad()
    nn.functional.cross_entropy(net(x), y).backward()
    optimizer.step()
model = net.state_dict()
cell_seconds = time.perf_counter() - _start
""",
}
LIMITS = Limits(cell_seconds=120, **PRELOAD_LIMITS["torch"])


def one(preload: tuple[str, ...], cell: str) -> tuple[float, float]:
    """(total ms, the cell's own ms) for one submission."""
    start = time.perf_counter()
    worker = worker_for([], LIMITS, preload=preload)
    reply = worker.request({"op": "run_cell", "source": CELLS[cell]}, 120)
    state = worker.request({"op": "get", "name": "model"}, 30)
    inside = worker.request({"op": "get", "name": "cell_seconds"}, 30)
    worker.close()
    total = (time.perf_counter() - start) * 1000
    assert reply.get("status") == "ok" and state.get("status") == "ok", (reply, state)
    return total, float(inside["value"]) * 1000


def row(name: str, results: list[tuple[float, float]]) -> str:
    totals = [t for t, _ in results]
    engine = [t - c for t, c in results]
    q = statistics.quantiles(totals, n=4) if len(totals) > 1 else [totals[0]] * 3
    return (f"{name:12s} n={len(results):3d}  total median {statistics.median(totals):7.1f} ms "
            f"(quartiles {q[0]:.1f} / {q[2]:.1f})  cell {statistics.median(c for _, c in results):7.1f}"
            f" ms  engine (total - cell) {statistics.median(engine):6.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=30, help="rounds per cell, torch zygote")
    parser.add_argument("--lean", type=int, default=5, help="rounds per cell, lean zygote")
    args = parser.parse_args()
    lines = []
    for preload, rounds in ((("torch",), args.n), ((), args.lean)):
        started = time.perf_counter()
        worker_for([], LIMITS, preload=preload).close()  # the sandbox starts once
        label = "+".join(preload) or "lean"
        lines.append(f"{label} sandbox start: {time.perf_counter() - started:.1f} s")
        results: dict[str, list[tuple[float, float]]] = {cell: [] for cell in CELLS}
        for _ in range(rounds):
            for cell in CELLS:  # interleaved, so load changes hit both alike
                results[cell].append(one(preload, cell))
        lines += [row(f"{label}/{cell}", found) for cell, found in results.items()]
        close_sandboxes()
    print("\n".join(lines))


if __name__ == "__main__":
    main()
