"""Hostile code against the torch zygote (``preload = ["torch"]``), in the real sandbox.

torch gives a student new ways to start threads (intra-op and inter-op pools, DataLoader
workers), to map memory (``torch.from_file``, shared storage in ``/dev/shm``, huge or
expanded tensors), and to reach native code (``torch._C``'s library through ctypes). Each
attack runs in a worker of ONE warm torch sandbox, in turn, as submissions would; probes
raise ``RuntimeError("HOLE: ...")`` when they get through. After each attack, the next
worker of the same zygote must be clean: one thread, nothing left in scratch, working.

Skipped where bubblewrap cannot start (the fallback defends much less: test_attacks.py).
"""

from __future__ import annotations

import pytest

from autograder.errors import StudentError
from autograder.grading.manifest import PRELOAD_LIMITS
from autograder.grading.session import StudentSession
from autograder.intake.notebook import Cell
from autograder.sandbox.launch import Limits, bubblewrap_problem

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(bubblewrap_problem() is not None,
                                reason=f"needs bubblewrap: {bubblewrap_problem()}")

LIMITS = Limits(cell_seconds=20, call_seconds=20, submission_seconds=120,
                interrupt_grace_seconds=0.5, **PRELOAD_LIMITS["torch"])

THREADS = '''
import torch, torch.nn.functional as F
torch.set_num_threads(8)
try:
    torch.set_num_interop_threads(8)
except RuntimeError:
    pass
x = torch.randn(64, 8, 28, 28)
out = F.conv2d(x, torch.randn(16, 8, 3, 3), padding=1)
fut = torch.jit.fork(torch.mm, torch.randn(200, 200), torch.randn(200, 200))
torch.jit.wait(fut)
threads_seen = torch.get_num_threads()
'''

FROM_FILE = '''
import os, torch
readable = []
for path in ["/etc/shadow", "/proc/1/mem", "/proc/1/environ", "/root/.bash_history",
             "/work/main/solutions/hw1/reference.py", os.path.expanduser("~/../../etc/shadow")]:
    try:
        t = torch.from_file(path, size=16, dtype=torch.uint8)
        readable.append(path)
    except Exception:
        pass
if readable:
    raise RuntimeError("HOLE: torch.from_file read " + ", ".join(readable))
control = torch.from_file("/etc/hostname", size=1, dtype=torch.uint8)  # the probe itself works
# a shared mapping left in scratch for the next submission
for place in ["/dev/shm/torch_leak", "/tmp/torch_leak", os.path.expanduser("~/torch_leak")]:
    try:
        t = torch.from_file(place, shared=True, size=1024, dtype=torch.uint8)
        t.fill_(7)
    except Exception:
        pass
'''

LEFTOVERS = '''
import os
found = [p for p in ["/dev/shm/torch_leak", "/tmp/torch_leak", os.path.expanduser("~/torch_leak")]
         if os.path.exists(p)]
if found:
    raise RuntimeError("HOLE: found " + ", ".join(found))
'''

NATIVE = '''
import ctypes, os, torch
lib = ctypes.CDLL(torch._C.__file__, use_errno=True)   # torch's own native library
libc = ctypes.CDLL(None, use_errno=True)
gained = []
assert libc.getpid() > 0 and lib._handle  # native calls work: the probes below are real
if libc.unshare(0x10000000) == 0:                        # CLONE_NEWUSER
    gained.append("unshare")
if libc.ptrace(16, 1, 0, 0) == 0:                        # PTRACE_ATTACH to the zygote
    gained.append("ptrace")
if libc.mount(b"none", b"/tmp", b"tmpfs", 0, None) == 0:
    gained.append("mount")
try:
    with open("/proc/1/mem", "rb") as handle:
        handle.read(1)
    gained.append("zygote memory")
except OSError:
    pass
try:
    torch.ops.load_library("/usr/lib/x86_64-linux-gnu/libc.so.6")
except Exception:
    pass
if gained:
    raise RuntimeError("HOLE: " + ", ".join(gained))
'''

DATALOADER = '''
import torch
from torch.utils.data import DataLoader, TensorDataset
data = TensorDataset(torch.randn(64, 3), torch.arange(64))
try:
    total = sum(int(y.sum()) for _, y in DataLoader(data, batch_size=8, num_workers=2))
except Exception as exc:
    total = type(exc).__name__
'''

MEMORY = '''
import torch
outcomes = []
for make in (lambda: torch.empty(10**11), lambda: torch.ones(400_000_000)):
    try:
        make()
        outcomes.append("allocated")
    except (RuntimeError, MemoryError) as exc:
        outcomes.append(type(exc).__name__)
'''

EXPANDED = '''
import torch
def huge():
    return torch.zeros(1).expand(10**8)   # 400 MB once copied for the wire
'''

FACTS = '''
import os, torch
def facts():
    return (torch.get_num_threads(), torch.get_num_interop_threads(),
            sorted(os.listdir("/dev/shm")), sorted(os.listdir("/tmp")),
            float(torch.nn.functional.conv2d(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 3, 3))))
'''


def run(*sources: str) -> StudentSession:
    session = StudentSession(tuple(Cell(i, s) for i, s in enumerate(sources)), [], LIMITS,
                             preload=("torch",))
    session.start()
    return session


def holes(session: StudentSession) -> list[str]:
    return [f"{o.ename}: {o.evalue}" for o in session.outcomes if "HOLE" in o.evalue]


def the_next_worker_is_clean() -> None:
    with run(FACTS) as session:
        threads, interop, shm, tmp, value = session.call("facts")
    assert (threads, interop) == (1, 1)
    assert shm == [] and [name for name in tmp if "torch" in name] == []
    assert value == 9.0


def test_threads_started_by_a_worker_stay_in_the_worker():
    with run(THREADS) as session:
        assert [o.status for o in session.outcomes] == ["ok"]
        assert session.get("threads_seen") == 8
    the_next_worker_is_clean()


def test_from_file_reads_nothing_outside_and_leaves_nothing_behind():
    with run(FROM_FILE) as session:
        assert holes(session) == [] and session.outcomes[0].status == "ok"
    with run(LEFTOVERS) as session:
        assert holes(session) == [] and session.outcomes[0].status == "ok"
    the_next_worker_is_clean()


def test_native_code_through_torch_gains_no_privilege():
    with run(NATIVE) as session:
        assert holes(session) == []
        assert session.outcomes[0].status == "ok", session.outcomes[0].describe()
    the_next_worker_is_clean()


def test_dataloader_workers_end_with_the_submission():
    with run(DATALOADER) as session:
        assert session.outcomes[0].status == "ok", session.outcomes[0].describe()
        assert session.get("total") in (sum(range(64)), "RuntimeError", "PermissionError",
                                         "OSError")
    the_next_worker_is_clean()


def test_huge_tensors_fail_in_the_worker_not_the_sandbox():
    """Past the address-space limit an allocation fails in the student's code; the memory
    cgroup may kill the worker instead; either way the next worker is fine."""
    with run(MEMORY) as session:
        outcome = session.outcomes[0]
        assert outcome.status in ("ok", "killed"), outcome.describe()
        if outcome.status == "ok":
            assert session.get("outcomes")[0] == "RuntimeError"
    the_next_worker_is_clean()


def test_an_expanded_tensor_too_big_for_the_wire_is_the_students_problem():
    with run(EXPANDED) as session, pytest.raises(StudentError):
        session.call("huge")
    the_next_worker_is_clean()
