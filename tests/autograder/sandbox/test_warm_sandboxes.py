"""One warm sandbox per grading process: reused while it lives, replaced when it dies."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest

from autograder.sandbox.launch import Limits
from autograder.sandbox.warm import close_sandboxes, worker_for


@pytest.fixture(autouse=True)
def _closed_after() -> Iterator[None]:
    yield
    close_sandboxes()


def test_the_same_files_and_limits_reuse_the_warm_sandbox():
    first = worker_for([], Limits())
    first.close()
    second = worker_for([], Limits())
    assert second.sandbox is first.sandbox and second.pid != first.pid


def test_other_limits_close_the_previous_sandbox():
    """A grading process keeps one sandbox: asking for another closes the first."""
    first = worker_for([], Limits())
    first.close()
    other = worker_for([], Limits(cell_seconds=Limits().cell_seconds + 1))
    assert other.sandbox is not first.sandbox
    assert not first.sandbox.alive and other.sandbox.alive


def test_a_dead_sandbox_is_replaced_and_closing_ends_everything():
    first = worker_for([], Limits())
    first.close()
    os.kill(first.sandbox.pid, signal.SIGKILL)  # the zygote dies between two submissions
    second = worker_for([], Limits())
    assert second.sandbox is not first.sandbox
    assert second.request({"op": "run_cell", "source": "1 + 1"}, 10)["status"] == "ok"
    close_sandboxes()
    assert not second.sandbox.alive
