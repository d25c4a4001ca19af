"""Kernel-level confinement: the seccomp program and per-worker cgroups."""

from __future__ import annotations

import os
import subprocess
import sys
import time
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
    """The grading processes close their sandboxes at exit, cgroups included. Only this run's
    cgroups are looked at (named after its session), so another grading running on the same
    machine meanwhile changes nothing; that the run made some is checked too."""
    from autograder.sandbox.confine import CGROUP_ROOT, _own_cgroup

    def of_session(session: int) -> set[str]:
        found = set()
        for controller in ("memory", "pids", ""):
            own = _own_cgroup(controller)
            folder = (CGROUP_ROOT / controller / own) if own is not None else None
            if folder is not None and folder.is_dir():
                found |= {p.name for p in folder.iterdir()
                          if p.name.startswith("autograder-") and p.name.endswith(f"-s{session}")}
        return found

    examples = Path(__file__).resolve().parents[3] / "solutions" / "hw1" / "examples"
    grade = subprocess.Popen([sys.executable, "-m", "autograder", "grade", "hw1", str(examples),
                              "--out", str(tmp_path / "out"), "--quiet"], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, start_new_session=True)
    seen: set[str] = set()
    while grade.poll() is None:  # what the run makes while it runs (its session is its pid)
        seen |= of_session(grade.pid)
        time.sleep(0.05)
    said = grade.communicate(timeout=300)[0]
    assert grade.returncode == 0, said
    if not seen:
        pytest.skip("the run made no cgroup here (no writable memory and pids controllers)")
    assert of_session(grade.pid) == set()
