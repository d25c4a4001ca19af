"""Suite-wide: the ``slow`` marker on the longest test files, which also run first.

``make test`` runs the suite in parallel (pytest-xdist, one file per worker at a
time: ``--dist loadfile``, so a file's module fixtures are built once). The
longest files are sent first, so no worker starts one near the end while the
others sit idle. ``-m "not slow"`` leaves them out of a quick local run; CI and
``make test`` run them all. Tests marked ``serial`` read state that the other
workers change (the cgroups of the whole process tree): ``make test`` runs them
alone, after the parallel pass.

``run_once(key, compute)`` shares one expensive result between test files (the attack batch
graded in the local pool: ``test_attacks`` and ``test_dask_attacks``): the first worker to ask
computes it, the others wait for it and read it (pytest-xdist's recipe "making session-scoped
fixtures execute only once"), in this run's own temporary folder.

Every process the suite starts runs BLAS and OpenMP on one thread, as the sandbox's workers
do (``worker_env``): a thread pool on two busy cores spins, and its CPU time is not the work.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

TESTS = Path(__file__).resolve().parent

# the longest files of one full run (--durations), longest first
SLOW = (
    "autograder/test_examples_hw2.py",
    "autograder/test_dask_attacks.py",
    "autograder/test_attacks.py",
    "autograder/test_attacks_inputs.py",
    "autograder/inside/test_lazy_ticks.py",
    "autograder/student/test_check_warm.py",
    "conformance/test_hw1_styles.py",
    "autograder/batch/test_batch.py",
    "autograder/report/test_report_pages.py",
    "autograder/test_dask_executor.py",
    "autograder/inside/test_zygote_leftovers.py",
    "autograder/inside/test_zygote.py",
    "autograder/test_cli.py",
    "autograder/test_bundle.py",
    "content/test_hw1_digits.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {name: n for n, name in enumerate(SLOW)}

    def order(item: pytest.Item) -> int:
        return rank.get(Path(item.path).relative_to(TESTS).as_posix(), len(SLOW))

    for item in items:
        if order(item) < len(SLOW):
            item.add_marker(pytest.mark.slow)
    items.sort(key=order)  # stable: a file's tests keep their order


@pytest.fixture(scope="session")
def run_once(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Callable[..., Any]:
    """``run_once(key, compute)``: ``compute()``'s result, computed once per test run."""
    base = tmp_path_factory.getbasetemp()
    shared = base if worker_id == "master" else base.parent  # the run's folder, not a machine's
    memo: dict[str, Any] = {}

    def get(key: str, compute: Callable[[], Any]) -> Any:
        if key not in memo:
            path = shared / f"run-once-{key}.pickle"
            with FileLock(f"{path}.lock"):
                if path.is_file():
                    memo[key] = pickle.loads(path.read_bytes())
                else:
                    memo[key] = compute()
                    path.write_bytes(pickle.dumps(memo[key]))
        return memo[key]

    return get
