"""One warm sandbox per grading process: reused while it lives, replaced when it dies."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import pytest

from autograder.sandbox import warm
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


def _counted(monkeypatch) -> list[object]:
    started: list[object] = []

    class Counted(warm.Sandbox):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            started.append(self)

    monkeypatch.setattr(warm, "Sandbox", Counted)
    return started


def test_a_sandbox_started_early_is_the_one_used_and_outlives_its_thread(monkeypatch):
    """``start_early`` boots the zygote in a thread; ``worker_for`` takes it, even after the
    thread's work is done (the kernel kills what a thread started when it ends, unless it
    waits)."""
    started = _counted(monkeypatch)
    warm.start_early([], Limits())
    next(iter(warm._EARLY.values())).result(timeout=60)
    time.sleep(0.5)  # were the thread gone, its zygote would be killed by now
    worker = worker_for([], Limits())
    assert started == [worker.sandbox]
    assert worker.request({"op": "run_cell", "source": "1 + 1"}, 10)["status"] == "ok"


def test_a_sandbox_started_early_for_other_limits_is_closed(monkeypatch):
    started = _counted(monkeypatch)
    warm.start_early([], Limits(cell_seconds=Limits().cell_seconds + 1))
    worker = worker_for([], Limits())
    assert len(started) == 2 and started[1] is worker.sandbox
    assert not started[0].alive and worker.sandbox.alive


def test_closing_waits_for_and_closes_a_sandbox_still_starting(monkeypatch):
    started = _counted(monkeypatch)
    warm.start_early([], Limits())
    close_sandboxes()
    assert len(started) == 1 and not started[0].alive
    assert not warm._EARLY
