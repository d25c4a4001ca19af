"""The fallback without bubblewrap and not as root (``isolate.private_world``): a worker runs
as the grader's own user, yet changes none of that user's files, and nothing it leaves in
``/tmp``, ``/dev/shm``, its home or a process of its own reaches the next worker.

CI runs this file as a plain user with bubblewrap hidden (``.ci/run``); elsewhere (bubblewrap
working, or root) it skips, saying why.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

import pytest

from autograder.sandbox import fallback
from autograder.sandbox.box import Sandbox
from autograder.sandbox.launch import Limits, bubblewrap_problem

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def sandbox():
    if not bubblewrap_problem():
        pytest.skip("bubblewrap works here, so the fallback is not used")
    if os.geteuid() == 0:
        pytest.skip("as root the fallback gives each sandbox a uid of its own (test_fallback.py)")
    if problem := fallback.apart_problem():
        pytest.skip(f"one submission per grading process here: {problem}")
    box = Sandbox([], Limits())
    yield box
    box.close()


def running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def run(worker, source: str) -> str:
    reply = worker.request({"op": "run_cell", "source": source}, 30)
    assert reply["status"] == "ok", reply
    return str(reply["output"]).strip()


@pytest.fixture
def victim():
    """A file of the grader's user that the worker can see: outside the scratch folders
    (``/tmp`` is fresh) and the hidden ones (home, project, working folder)."""
    folder = "/var/tmp" if os.access("/var/tmp", os.W_OK) else None
    if folder is None:
        pytest.skip("/var/tmp is not writable here")
    handle, path = tempfile.mkstemp(suffix=".py", dir=folder)
    os.close(handle)
    yield Path(path)
    os.unlink(path)


def test_a_worker_changes_none_of_its_users_files_and_leaves_nothing_for_the_next(
        sandbox, victim):
    victim.write_text("SCORE = 'honest'\n")  # the grader's user owns it, as the worker does
    name = f"answer-{secrets.token_hex(4)}.py"
    places = [f"/tmp/{name}", f"/dev/shm/{name}", f"~/{name}"]
    first = sandbox.spawn()
    wrote = run(first, f"""
import os
for place in {places!r}:
    with open(os.path.expanduser(place), 'w') as handle:
        handle.write('ANSWER = 42')
try:
    open({str(victim)!r}, 'a').write('SCORE = 100')
    print('changed')
except OSError as exc:
    print(exc.errno)
""")
    assert wrote == "30"  # EROFS: the whole file system is read-only but its scratch
    first.close()
    assert victim.read_text() == "SCORE = 'honest'\n"
    assert not os.path.exists(places[0]) and not os.path.exists(places[1])  # not the machine's
    second = sandbox.spawn()
    found = run(second, f"import os\nprint([os.path.exists(os.path.expanduser(p)) "
                        f"for p in {places!r}])")
    assert found == "[False, False, False]"
    second.close()


def test_a_worker_sees_no_graders_reference_or_home_of_its_user(sandbox):
    secrets_here = [ROOT / "solutions" / "hw1" / "reference.py", ROOT / "solutions" / "hw1" /
                    "graders.py", Path.cwd() / "pyproject.toml"]
    home = Path.home() / f".answer-{secrets.token_hex(4)}"
    home.write_text("ANSWER = 42")
    try:
        assert all(path.exists() for path in secrets_here)
        worker = sandbox.spawn()
        seen = run(worker, "import os\nprint([os.path.exists(p) for p in "
                           f"{[str(p) for p in (*secrets_here, home)]!r}])")
        assert seen == "[False, False, False, False]"
        through_proc = run(worker, f"""
import os
mine, seen = 0, []
for p in filter(str.isdigit, os.listdir('/proc')):
    try:
        mine += os.stat('/proc/' + p).st_uid == os.getuid()
    except OSError:
        continue
    seen += [p for link in ('root', 'cwd') if os.path.exists(f'/proc/{{p}}/{{link}}/{secrets_here[0]}')]
print(mine > 1, seen)
""")  # this test's own process, for one, sees the file through its /proc/PID/root
        assert through_proc == "True []"
    finally:
        home.unlink()


def test_the_ta_is_told_which_fallback_ran(sandbox):
    assert fallback.PRIVATE in sandbox.weaknesses
    assert fallback.describe(None) not in sandbox.weaknesses


def test_a_process_that_left_the_session_dies_with_its_worker(sandbox):
    worker = sandbox.spawn()
    pid = int(run(worker, """
import os, time
read, write = os.pipe()
child = os.fork()
if child == 0:
    os.setsid()
    os.write(write, b"x")
    time.sleep(600)
    os._exit(0)
os.read(read, 1)
print(child)
"""))
    assert os.getsid(pid) != os.getsid(sandbox.pid)  # out of reach of a session kill
    worker.close()
    assert not running(pid), f"the escapee {pid} is still running"
    assert sandbox.spawn().request({"op": "run_cell", "source": "1"}, 30)["status"] == "ok"
