"""The sandbox handle: a warm zygote forks workers; closing is safe to repeat."""

from __future__ import annotations

import os

from autograder.sandbox.box import Sandbox
from autograder.sandbox.launch import Limits


def test_closing_twice_never_closes_a_reused_file_descriptor():
    """A second close() must not close fd numbers handed out again since the first."""
    sandbox = Sandbox([], Limits())
    numbers = {sandbox.channel.request_w, sandbox.channel.reply_r}
    sandbox.close()
    pipes = [os.pipe() for _ in range(8)]  # likely to reuse the numbers just freed
    try:
        reused = [fd for pair in pipes for fd in pair if fd in numbers]
        sandbox.close()
        for fd in reused:
            os.fstat(fd)  # raises OSError (EBADF) if the second close() closed it
        assert not sandbox.alive
    finally:
        for pair in pipes:
            for fd in pair:
                try:
                    os.close(fd)
                except OSError:
                    pass


def test_a_worker_runs_a_cell_and_the_next_worker_starts_clean():
    """Two workers of one sandbox: the second sees nothing the first wrote."""
    sandbox = Sandbox([], Limits())
    try:
        first = sandbox.spawn()
        write = "import os\nopen(os.path.expanduser('~/x'), 'w').write('1')"
        reply = first.request({"op": "run_cell", "source": write}, 10)
        assert reply["status"] == "ok"
        first.close()
        second = sandbox.spawn()
        look = "import os\nprint(os.path.exists(os.path.expanduser('~/x')))"
        reply = second.request({"op": "run_cell", "source": look}, 10)
        assert reply["output"].strip() == "False"
        second.close()
    finally:
        sandbox.close()


SLEEPER = "import os, time\nif os.fork() == 0:\n    time.sleep(600)\n    os._exit(0)\n"


def test_a_released_worker_is_cleaned_up_before_the_next_one_is_forked():
    """``release`` does not wait for the worker to die; the next ``spawn`` does, and it
    kills what the worker left running before anything else runs."""
    sandbox = Sandbox([], Limits())
    try:
        first = sandbox.spawn()
        assert first.request({"op": "run_cell", "source": SLEEPER}, 10)["status"] == "ok"
        left = sandbox.members() - {sandbox.pid, first.pid}
        assert len(left) == 1  # the sleeping child
        first.release()
        assert sandbox.worker is None and sandbox._released is first  # not waited for
        second = sandbox.spawn()
        assert sandbox._released is None
        assert sandbox.members() == {sandbox.pid, second.pid}
        for pid in (first.pid, *left):
            assert not os.path.exists(f"/proc/{pid}") or _is_zombie(pid)
        assert second.request({"op": "run_cell", "source": "x = 1"}, 10)["status"] == "ok"
        second.close()
    finally:
        sandbox.close()


def test_closing_a_sandbox_with_a_released_worker_kills_it_too():
    sandbox = Sandbox([], Limits())
    first = sandbox.spawn()
    assert first.request({"op": "run_cell", "source": SLEEPER}, 10)["status"] == "ok"
    everyone = sandbox.members()
    first.release()
    sandbox.close()
    assert first.close() == "the sandbox was closed"
    for pid in everyone:
        assert not os.path.exists(f"/proc/{pid}") or _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
