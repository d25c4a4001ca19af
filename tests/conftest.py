"""Suite-wide: the ``slow`` marker on the longest test files, which also run first.

``make test`` runs the suite in parallel (pytest-xdist, one file per worker at a
time: ``--dist loadfile``, so a file's module fixtures are built once). The
longest files are sent first, so no worker starts one near the end while the
others sit idle. ``-m "not slow"`` leaves them out of a quick local run; CI and
``make test`` run them all. Tests marked ``serial`` read state that the other
workers change (the cgroups of the whole process tree): ``make test`` runs them
alone, after the parallel pass.
"""

from __future__ import annotations

from pathlib import Path

import pytest

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
