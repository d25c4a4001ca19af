"""Submissions graded one after another by the same warm sandbox cannot reach each other.

With ``--jobs 1`` every submission below is forked from one zygote, in id order.
A "leaver" tries to hand its answers to the next submission through every
place that outlives a process (scratch files, shared memory, a process left
behind that keeps re-creating the files and reads the request pipe); a
"taker" with no code of its own uses whatever it finds. Another attacks the
zygote itself. The taker must score 0 and the last honest notebook 100.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cross_submission import grade_in_order, notebook

from autograder.sandbox import fallback
from autograder.sandbox.launch import bubblewrap_problem

REPO = Path(__file__).resolve().parents[3]
REFERENCE = (REPO / "solutions" / "hw1" / "reference.py").read_text()

LEAVER = f'''
import os, sys, time
ANSWER = {REFERENCE!r}
PLACES = ["/tmp/answer.py", os.path.expanduser("~/answer.py"), "/dev/shm/answer.py"]
def plant():
    for place in PLACES:
        try:
            with open(place, "w") as handle:
                handle.write(ANSWER)
        except OSError:
            pass
plant()
if os.fork() == 0:  # stays behind and re-plants
    os.setsid()
    while True:
        plant()
        time.sleep(0.005)
'''

STEALER = '''
import os, time
if os.fork() == 0:  # stays behind and reads the next submission's requests
    os.setsid()
    while True:
        try:
            os.read(3, 65536)
        except OSError:
            pass
        time.sleep(0.001)
'''

TAKER = '''
import os
for place in ["/tmp/answer.py", os.path.expanduser("~/answer.py"), "/dev/shm/answer.py"]:
    if os.path.exists(place):
        exec(open(place).read())
        raise RuntimeError("HOLE: found " + place)
'''

ZYGOTE_ATTACK = '''
import ctypes, os, signal
holes = []
for path in ("/proc/1/mem", "/proc/1/environ", "/proc/1/fd/3"):
    try:
        with open(path, "rb") as handle:
            handle.read(1)
        holes.append(path)
    except OSError:
        pass
libc = ctypes.CDLL(None, use_errno=True)
if libc.ptrace(16, 1, 0, 0) == 0:  # PTRACE_ATTACH to the zygote
    holes.append("ptrace")
os.kill(1, signal.SIGSTOP)  # ignored: PID 1 of the namespace
os.kill(1, signal.SIGKILL)
if holes:
    raise RuntimeError("HOLE: " + ", ".join(holes))
'''


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    if bubblewrap_problem() and (problem := fallback.apart_problem()):
        pytest.skip(f"one submission per grading process here: {problem}")
    source = tmp_path_factory.mktemp("subs")
    submissions = {
        "a1-leaver": notebook(REFERENCE, LEAVER),
        "a2-taker": notebook(TAKER),
        "a3-zygote": notebook(REFERENCE, ZYGOTE_ATTACK),
        "a4-taker": notebook(TAKER),
        "a5-stealer": notebook(REFERENCE, STEALER),
        "a6-honest": notebook(REFERENCE),
    }
    return grade_in_order(submissions, source, tmp_path_factory.mktemp("out"),
                          cell_timeout=3, submission_timeout=60, timeout=600)


@pytest.mark.parametrize("sid, score", [("a1-leaver", 100), ("a2-taker", 0), ("a3-zygote", 100),
                                        ("a4-taker", 0), ("a5-stealer", 100),
                                        ("a6-honest", 100)],
                         ids=["leaver", "taker", "zygote-attack", "taker-after", "stealer", "honest"])
def test_each_submission_scores_only_its_own_work(records, sid, score):
    data = records[sid]
    assert data["score"] == score, data["output"]
    assert "HOLE" not in data["output"]
    assert data["extra_data"]["status"] == "graded"
