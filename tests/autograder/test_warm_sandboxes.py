"""One warm sandbox per grading process: reused while it lives, replaced when it dies."""

from __future__ import annotations

import os
import signal

from autograder.sandbox import Limits
from autograder.warm_sandboxes import close_sandboxes, worker_for


def test_the_same_files_and_limits_reuse_the_warm_sandbox():
    try:
        first = worker_for([], Limits())
        sandbox = first.sandbox
        first.close()
        second = worker_for([], Limits())
        assert second.sandbox is sandbox and second.pid != first.pid
        second.close()
    finally:
        close_sandboxes()


def test_other_limits_close_the_previous_sandbox():
    """A grading process keeps one sandbox: asking for another closes the first."""
    try:
        first = worker_for([], Limits())
        old = first.sandbox
        first.close()
        other = worker_for([], Limits(cell_seconds=Limits().cell_seconds + 1))
        assert other.sandbox is not old and not old.alive and other.sandbox.alive
        other.close()
    finally:
        close_sandboxes()


def test_a_dead_sandbox_is_replaced_and_closing_ends_everything():
    try:
        first = worker_for([], Limits())
        dead = first.sandbox
        first.close()
        os.kill(dead.pid, signal.SIGKILL)  # the zygote dies between two submissions
        second = worker_for([], Limits())
        assert second.sandbox is not dead
        reply = second.request({"op": "run_cell", "source": "1 + 1"}, 10)
        assert reply["status"] == "ok"
        replacement = second.sandbox
    finally:
        close_sandboxes()
    assert not replacement.alive
