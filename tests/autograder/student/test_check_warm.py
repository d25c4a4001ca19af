"""The warm path of ``check``: a per-user check server answers the second ``check``.

Every run is ``python -m autograder check`` in a subprocess, with the server's
folder in a fresh private folder of the test (``AUTOGRADER_CHECK_DIR``); each
test stops the servers it started. A run was warm when the client process never
imported the check itself (``-X importtime`` lists the client's imports only).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

from autograder.student import check_warm

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "solutions" / "hw1" / "examples"
WAIT = 90.0  # generous: the machine may be loaded; no assert depends on a duration


@pytest.fixture
def folder():
    path = Path(tempfile.mkdtemp(prefix="cw", dir="/tmp"))  # short: a socket path has 108 bytes
    os.chmod(path, 0o700)
    yield path
    for pid in _server_pids(path):
        _stop(pid)
    shutil.rmtree(path, ignore_errors=True)


def _env(folder: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOGRADER_CHECK")}
    return {**env, "AUTOGRADER_CHECK_DIR": str(folder), "AUTOGRADER_CHECK_IDLE": "120", **extra}


def check(folder: Path, *args: str | Path, cwd: Path = REPO,
          **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-X", "importtime", "-m", "autograder", "check",
                           *map(str, args)], capture_output=True, text=True, timeout=240,
                          cwd=cwd, env=_env(folder, **env), check=False)


def was_warm(run: subprocess.CompletedProcess[str]) -> bool:
    imported = [line.split("|")[-1].strip() for line in run.stderr.splitlines()
                if line.startswith("import time:")]
    assert "autograder.student.check_warm" in imported, run.stderr[-2000:]
    return "autograder.student.check" not in imported


def without_imports(stderr: str) -> str:
    return "\n".join(line for line in stderr.splitlines() if not line.startswith("import time:"))


def _server_pids(folder: Path) -> list[int]:
    pids = []
    for lock in folder.glob("*.lock"):
        text = lock.read_text().strip()
        if text.isdigit():
            pids.append(int(text))
    return pids


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "Z" not in _state(pid)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "Z"


def _stop(pid: int) -> None:
    if _alive(pid):
        os.kill(pid, signal.SIGTERM)


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.2)


def server_up(folder: Path) -> int:
    """Wait until a server listens in ``folder``; its pid."""
    sock = folder / f"{check_warm.server_name()}.sock"

    def listening() -> bool:
        pids = _server_pids(folder)
        return sock.exists() and bool(pids) and _alive(pids[0])

    wait_for(listening, "the check server")
    return _server_pids(folder)[0]


def test_cold_and_warm_print_the_same_and_exit_the_same(folder, tmp_path):
    """Passing, failing, unreadable and mistyped: warm output and exit code equal the cold ones."""
    shutil.copy(EXAMPLES / "2023001.ipynb", tmp_path / "good.ipynb")
    (tmp_path / "bad.ipynb").write_text("print('not a notebook')\n")
    exits = nbformat.read(EXAMPLES / "2023001.ipynb", as_version=4)
    exits.cells.insert(1, nbformat.v4.new_code_cell("import os\nos._exit(3)"))
    nbformat.write(exits, tmp_path / "exits.ipynb")
    cases = [("good.ipynb",), (EXAMPLES / "2023002" / "homework1_final.ipynb",),
             ("bad.ipynb",), ("--bogus-flag",), ("exits.ipynb",)]
    first = check(folder, *cases[0], cwd=tmp_path)
    assert not was_warm(first) and first.returncode == 0, first.stdout + first.stderr
    server_up(folder)
    codes = []
    for case in cases:
        cold = check(folder, *case, "--no-warm", cwd=tmp_path)
        warm = check(folder, *case, cwd=tmp_path)
        assert not was_warm(cold) and was_warm(warm), case
        assert (warm.stdout, warm.returncode) == (cold.stdout, cold.returncode), case
        assert without_imports(warm.stderr) == without_imports(cold.stderr), case
        codes.append(warm.returncode)
    assert codes == [0, 1, 2, 2, 3]
    assert first.stdout == check(folder, "good.ipynb", cwd=tmp_path).stdout


def test_a_hanging_notebook_still_times_out_when_warm(folder, tmp_path):
    """A cell that never ends is interrupted after the cell limit, as cold; the next cells run."""
    notebook = nbformat.read(EXAMPLES / "2023001.ipynb", as_version=4)
    notebook.cells.insert(0, nbformat.v4.new_code_cell(  # hangs without spending CPU
        "import time\nwhile True:\n    time.sleep(0.05)"))
    nbformat.write(notebook, tmp_path / "hangs.ipynb")
    check(folder, EXAMPLES / "2023001.ipynb", cwd=tmp_path)  # starts the server
    server_up(folder)
    warm = check(folder, "hangs.ipynb", cwd=tmp_path)  # the default 10 s: a shorter limit
    assert was_warm(warm)  # let a loaded machine interrupt other cells in one run only
    cold = check(folder, "hangs.ipynb", "--no-warm", cwd=tmp_path)
    assert (warm.stdout, warm.returncode) == (cold.stdout, cold.returncode)
    assert warm.returncode == 0, warm.stdout + warm.stderr  # the other cells ran
    assert "cell 1" in warm.stdout and "interrupt" in warm.stdout.lower(), warm.stdout


def test_a_stale_server_is_not_used_and_is_replaced(folder, tmp_path):
    """After a file of the package changes, the next check runs cold and a new server starts."""
    shutil.copy(EXAMPLES / "2023001.ipynb", tmp_path / "good.ipynb")
    cold = check(folder, "good.ipynb", cwd=tmp_path)
    old = server_up(folder)
    changed = check_warm.PACKAGE / "toolkit" / "cases.py"
    before = changed.stat()
    os.utime(changed, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
    try:
        stale = check(folder, "good.ipynb", cwd=tmp_path)
        assert not was_warm(stale)
        assert (stale.stdout, stale.returncode) == (cold.stdout, cold.returncode)
        wait_for(lambda: not _alive(old), "the stale server to exit")
        new = server_up(folder)
        assert new != old
        assert was_warm(check(folder, "good.ipynb", cwd=tmp_path))
    finally:
        os.utime(changed, ns=(before.st_atime_ns, before.st_mtime_ns))


def test_a_dead_servers_socket_means_cold_and_a_new_server(folder, tmp_path):
    """A socket file nobody listens on (a killed server's): the check runs cold, once."""
    shutil.copy(EXAMPLES / "2023001.ipynb", tmp_path / "good.ipynb")
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(folder / f"{check_warm.server_name()}.sock"))
    dead.close()
    run = check(folder, "good.ipynb", cwd=tmp_path)
    assert run.returncode == 0 and not was_warm(run), run.stdout + run.stderr
    assert run.stdout.count("Public checks of good.ipynb") == 1
    server_up(folder)
    assert was_warm(check(folder, "good.ipynb", cwd=tmp_path))


def _children(pid: int) -> list[int]:
    found = []
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError):
            if int(stat_file.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat_file.parent.name))
    return found


def test_a_running_check_does_not_keep_the_next_server_out(folder, tmp_path):
    """A stale server's checks still running never hold its lock: the new server starts."""
    notebook = nbformat.read(EXAMPLES / "2023001.ipynb", as_version=4)
    notebook.cells.insert(0, nbformat.v4.new_code_cell(  # hangs without spending CPU
        "import time\nwhile True:\n    time.sleep(0.05)"))
    nbformat.write(notebook, tmp_path / "hangs.ipynb")
    shutil.copy(EXAMPLES / "2023001.ipynb", tmp_path / "good.ipynb")
    check(folder, "good.ipynb", cwd=tmp_path)
    old = server_up(folder)
    hanging = subprocess.Popen([sys.executable, "-X", "importtime", "-m", "autograder", "check",
                                "hangs.ipynb"], cwd=tmp_path, env=_env(folder), text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_for(lambda: _children(old), "the server to take the hanging check")
    changed = check_warm.PACKAGE / "toolkit" / "cases.py"
    before = changed.stat()
    os.utime(changed, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
    try:
        check(folder, "good.ipynb", cwd=tmp_path)
        wait_for(lambda: _server_pids(folder) != [old] and _alive(_server_pids(folder)[0]),
                 "a new server while the old one's check still runs")
    finally:
        os.utime(changed, ns=(before.st_atime_ns, before.st_mtime_ns))
        out, err = hanging.communicate(timeout=240)
    assert was_warm(subprocess.CompletedProcess(hanging.args, hanging.returncode, out, err))
    assert hanging.returncode == 0 and "interrupt" in out.lower(), out


def test_the_server_exits_when_idle(folder, tmp_path):
    shutil.copy(EXAMPLES / "2023001.ipynb", tmp_path / "good.ipynb")
    check(folder, "good.ipynb", cwd=tmp_path, AUTOGRADER_CHECK_IDLE="2")
    pid = server_up(folder)
    wait_for(lambda: not _alive(pid), "the idle server to exit")
    assert not (folder / f"{check_warm.server_name()}.sock").exists()


def test_turned_off_nothing_starts(folder, tmp_path):
    """--no-warm (or an abbreviation) and AUTOGRADER_CHECK_WARM=0: cold, and no server."""
    shutil.copy(EXAMPLES / "2023001.ipynb", tmp_path / "good.ipynb")
    for run in (check(folder, "good.ipynb", "--no-warm", cwd=tmp_path),
                check(folder, "--no-w", "good.ipynb", cwd=tmp_path),
                check(folder, "good.ipynb", cwd=tmp_path, AUTOGRADER_CHECK_WARM="0")):
        assert run.returncode == 0 and not was_warm(run), run.stdout + run.stderr
    assert not list(folder.glob("*.lock")) and not list(folder.glob("*.sock"))
    assert check_warm.opted_out(["--no"]) and not check_warm.opted_out(["--", "--no-warm"])


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another user")
NOBODY = 65534


@needs_root
def test_a_folder_of_another_user_is_not_used(folder, tmp_path):
    """Someone else's socket folder: the check runs cold and never connects to its socket."""
    shutil.copy(EXAMPLES / "2023001.ipynb", tmp_path / "good.ipynb")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(folder / f"{check_warm.server_name()}.sock"))
    listener.listen(1)
    listener.settimeout(0.5)
    os.chown(folder, NOBODY, NOBODY)
    try:
        run = check(folder, "good.ipynb", cwd=tmp_path)
        assert run.returncode == 0 and not was_warm(run), run.stdout + run.stderr
        with pytest.raises(TimeoutError):
            listener.accept()
        assert not list(folder.glob("*.lock"))  # no server of ours started there either
    finally:
        listener.close()
        os.chown(folder, 0, 0)


PROBE = """
import json, socket, sys
c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
c.connect(sys.argv[1])
request = {"argv": ["x.ipynb"], "sys_argv": ["x"], "cwd": "/", "env": {}, "stamp": sys.argv[2], "umask": 18,
           "streams": [{}, {}, {}]}
try:  # the server may refuse (and close) before the request is sent
    socket.send_fds(c, [json.dumps(request).encode() + b"\\n"], [0, 1, 2])
except OSError:
    pass
print(c.recv(4096).decode().strip())
"""


@needs_root
def test_the_server_refuses_another_user(folder, tmp_path):
    """A client of another uid that reaches the socket gets a refusal, and no check runs."""
    shutil.copy(EXAMPLES / "2023001.ipynb", tmp_path / "good.ipynb")
    check(folder, "good.ipynb", cwd=tmp_path)
    server_up(folder)
    sock = folder / f"{check_warm.server_name()}.sock"
    os.chmod(folder, 0o711)
    os.chmod(sock, 0o777)
    probe = subprocess.run(["/usr/bin/python3", "-c", PROBE, str(sock), check_warm.code_stamp()],
                           capture_output=True, text=True, timeout=60, user=NOBODY, group=NOBODY,
                           cwd="/", check=False)
    assert probe.returncode == 0, probe.stderr
    assert json.loads(probe.stdout) == {"refused": "another user"}, probe.stdout + probe.stderr
    os.chmod(folder, 0o700)
    assert was_warm(check(folder, "good.ipynb", cwd=tmp_path))  # still serving its own user
