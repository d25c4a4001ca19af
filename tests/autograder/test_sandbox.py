"""The sandbox handle: a warm zygote forks workers; closing is safe to repeat."""

from __future__ import annotations

import os

from autograder.sandbox import Limits, Sandbox


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
