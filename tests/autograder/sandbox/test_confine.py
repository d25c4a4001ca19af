"""Kernel-level confinement: the seccomp program and per-worker cgroups."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.sandbox.confine import Cgroup, seccomp_filter

ROOT = os.geteuid() == 0


def test_seccomp_program_is_built():
    """libseccomp (via pyseccomp) compiles the deny-list; bubblewrap takes the bytes."""
    program = seccomp_filter()
    assert program is not None and len(program) % 8 == 0 and len(program) > 8 * 20


@pytest.mark.skipif(not ROOT, reason="creating cgroups needs root (CI runs as root)")
def test_cgroup_limits_memory_of_a_process_and_is_removed():
    """A process in the cgroup cannot hold more than memory.max; the cgroup goes away after."""
    group = Cgroup.create(f"autograder-test-{os.getpid()}", 64 * 2**20, 8)
    if group is None:
        pytest.skip("no writable cgroup file system on this machine")
    hog = "import sys; sys.stdin.read(); b = bytearray(256 * 2**20); b[::4096] = b'x' * 65536"
    child = subprocess.Popen([sys.executable, "-c", hog], stdin=subprocess.PIPE)
    try:
        group.add(child.pid)
        assert group.pids() == {child.pid}
        child.communicate(b"", timeout=60)
        assert child.returncode == -9  # SIGKILL from the OOM killer of the cgroup
    finally:
        child.kill()
        group.remove()
    assert all(not path.exists() for path in group.paths)


@pytest.mark.serial  # other test processes make and remove cgroups beside ours
@pytest.mark.skipif(not ROOT, reason="cgroups are only made as root (CI runs as root)")
def test_a_grading_run_leaves_no_cgroup_behind(tmp_path):
    """The grading processes close their sandboxes at exit, cgroups included."""
    from autograder.sandbox.confine import CGROUP_ROOT, STALE, _own_cgroup

    def ours() -> set[str]:
        """Cgroups named as this code names them whose grading process is gone: a cgroup of
        a live process belongs to a grading still running (another test, or another
        checkout on a shared machine), not to a finished run."""
        found = set()
        for controller in ("memory", "pids"):
            own = _own_cgroup(controller)
            folder = CGROUP_ROOT / controller / own if own is not None else None
            if folder is not None and folder.is_dir():
                found |= {p.name for p in folder.iterdir() if (m := STALE.fullmatch(p.name))
                          and not Path(f"/proc/{m[1]}").exists()}
        return found

    before = ours()
    examples = Path(__file__).resolve().parents[3] / "solutions" / "hw1" / "examples"
    run = subprocess.run([sys.executable, "-m", "autograder", "grade", "hw1", str(examples),
                          "--out", str(tmp_path / "out"), "--quiet"], capture_output=True,
                         text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert ours() - before == set()
