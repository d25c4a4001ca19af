"""Nothing one submission leaves behind reaches the next one graded by the same warm sandbox.

The round-2 attacks on "clean up by deleting" (issue 10): a leaver hides its
answers where deletion fails or never looks (a ``chmod 0`` folder in ``/tmp``
and home, a POSIX message queue, SysV shared memory and a message queue) and a
taker with no code of its own looks there. Another fills the scratch space with
as many empty files as it can (kernel memory, inodes) before an honest
notebook that must still score exactly 100. With ``--jobs 1`` all of them are
forked from one zygote, in id order.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cross_submission import grade_in_order, notebook

from autograder.sandbox import fallback
from autograder.sandbox.launch import bubblewrap_problem

REPO = Path(__file__).resolve().parents[3]
REFERENCE = (REPO / "solutions" / "hw1" / "reference.py").read_text()

PRELUDE = '''
import ctypes, ctypes.util, os, zlib
rt = ctypes.CDLL(ctypes.util.find_library("rt") or None, use_errno=True)
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
rt.mq_open.restype = ctypes.c_int
KEY = 0x4747
'''

LEAVER = PRELUDE + f'''
ANSWER = zlib.compress({REFERENCE!r}.encode(), 9)
for folder in ("/tmp/locked", os.path.expanduser("~/locked")):
    os.makedirs(folder, exist_ok=True)
    with open(folder + "/answer.bin", "wb") as handle:
        handle.write(ANSWER)
    os.chmod(folder, 0)
queue = rt.mq_open(b"/answers", os.O_CREAT | os.O_RDWR, 0o666, None)
if queue >= 0:
    rt.mq_send(queue, ANSWER, len(ANSWER), 0)
shm = libc.shmget(KEY, 65536, 0o1000 | 0o666)  # IPC_CREAT
if shm >= 0:
    address = libc.shmat(shm, None, 0)
    ctypes.memmove(address, len(ANSWER).to_bytes(4, "little") + ANSWER, len(ANSWER) + 4)
msq = libc.msgget(KEY, 0o1000 | 0o666)
if msq >= 0:
    message = ctypes.create_string_buffer((1).to_bytes(8, "little") + ANSWER)
    libc.msgsnd(msq, message, len(ANSWER), 0)
'''

TAKER = PRELUDE + '''
found = {}
for folder in ("/tmp/locked", os.path.expanduser("~/locked")):
    try:
        os.chmod(folder, 0o700)
        found[folder] = open(folder + "/answer.bin", "rb").read()
    except OSError:
        pass
queue = rt.mq_open(b"/answers", os.O_RDONLY | os.O_NONBLOCK, 0, None)
if queue >= 0:
    buffer = ctypes.create_string_buffer(1 << 16)
    size = rt.mq_receive(queue, buffer, len(buffer), None)
    if size > 0:
        found["mqueue"] = buffer.raw[:size]
shm = libc.shmget(KEY, 0, 0)
if shm >= 0:
    address = libc.shmat(shm, None, 0)
    if address not in (None, ctypes.c_void_p(-1).value):
        size = int.from_bytes(ctypes.string_at(address, 4), "little")
        if size:
            found["sysv-shm"] = ctypes.string_at(address + 4, size)
msq = libc.msgget(KEY, 0)
if msq >= 0:
    buffer = ctypes.create_string_buffer(1 << 16)
    size = libc.msgrcv(msq, buffer, 1 << 15, 0, 0o4000)  # IPC_NOWAIT
    if size > 0:
        found["sysv-msg"] = buffer.raw[8:8 + size]
for place, data in found.items():
    exec(zlib.decompress(data).decode())
if found:
    raise RuntimeError("HOLE: found " + ", ".join(sorted(found)))
'''

FILLER = '''
import os, time
start, made = time.monotonic(), 0
for folder in ("/tmp", os.path.expanduser("~"), "/dev/shm"):
    try:
        for number in range(1_000_000):
            if number % 1000 == 0 and time.monotonic() - start > 12:
                break
            os.close(os.open(f"{folder}/f{number}", os.O_CREAT | os.O_WRONLY, 0o600))
            made += 1
    except OSError:
        pass
print("made", made)
'''


FILLERS = {"b4-filler", "b5-honest", "b6-filler", "b7-honest"}
NO_SCRATCH_CAP = "the scratch space's size and inode caps are a bubblewrap-only defence"


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    if bubblewrap_problem() and (problem := fallback.apart_problem()):
        pytest.skip(f"one submission per grading process here: {problem}")
    source = tmp_path_factory.mktemp("subs")
    submissions = {
        "b1-leaver": notebook(REFERENCE, LEAVER),
        "b2-taker": notebook(TAKER),
        "b3-honest": notebook(REFERENCE),
        "b4-filler": notebook(REFERENCE, FILLER),
        "b5-honest": notebook(REFERENCE),
        "b6-filler": notebook(FILLER),
        "b7-honest": notebook(REFERENCE),
    }
    if bubblewrap_problem():  # the fallback would fill the machine's own /tmp
        submissions = {sid: nb for sid, nb in submissions.items() if sid not in FILLERS}
    return grade_in_order(submissions, source, tmp_path_factory.mktemp("out"),
                          cell_timeout=30, submission_timeout=100, timeout=900)


@pytest.mark.parametrize("sid, score", [("b1-leaver", 100), ("b2-taker", 0), ("b3-honest", 100),
                                        ("b4-filler", 100), ("b5-honest", 100),
                                        ("b7-honest", 100)],
                         ids=["leaver", "taker", "honest", "filler", "honest-after-filler",
                              "honest-after-two-fillers"])
def test_nothing_left_behind_reaches_the_next_submission(records, sid, score):
    if sid not in records and sid in FILLERS:
        pytest.skip(f"{NO_SCRATCH_CAP}: {bubblewrap_problem()}")
    data = records[sid]
    assert "HOLE" not in data["output"], data["output"]
    assert data["score"] == score, data["output"]
    assert data["extra_data"]["status"] == "graded"
