"""The warm path of ``check``: ask this user's check server to run the check.

A cold ``check`` pays about a second of imports (matplotlib.pyplot, numpy,
IPython, nbformat, otter) before the notebook's first cell. The first cold
``check`` therefore starts, detached, a check server (``check_server``) that has
imported them and forks one child per request; later ``check``s hand it their
arguments, working folder, environment and their own stdin/stdout/stderr (file
descriptors passed over a Unix socket), so the child prints straight to the
student's terminal, and the server sends back the child's exit status.

Trust: the socket lives in a folder of this user's only (mode 0700, owned by
the user, not a symlink; else the warm path is not used), and each side checks
the other's uid with ``SO_PEERCRED``. A server whose code is stale (the
autograder package's files, the interpreter or the import environment differ
from when it started) refuses, and exits; the client then runs cold and starts
a new one. Any failure (no Unix sockets or ``SO_PEERCRED``, Windows, no
server, a refusal) means the cold path, with the same output.

Off: ``--no-warm`` or ``AUTOGRADER_CHECK_WARM=0``. ``AUTOGRADER_CHECK_DIR``
names the socket folder (default ``$XDG_RUNTIME_DIR/autograder``, else
``<tmp>/autograder-<uid>``); ``AUTOGRADER_CHECK_IDLE`` the server's idle
timeout in seconds (default 900).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import socket
import stat
import struct
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

PACKAGE = Path(__file__).resolve().parents[1]  # autograder/: the whole engine
IDLE_SECONDS = 900.0
CONNECT_SECONDS = 2.0  # to connect and hear that the server is ready (else: cold)
MAX_LINE = 1 << 20
ENVIRONMENT = dict(os.environ)  # before the cold check changes it (MPLBACKEND): the server's
IMPORT_ENV = ("PYTHONPATH", "PYTHONHOME", "PYTHONSAFEPATH", "PYTHONNOUSERSITE",
              "PYTHONWARNINGS", "MPLBACKEND", "MPLCONFIGDIR", "IPYTHONDIR")


def supported() -> bool:
    """This platform passes file descriptors and peer credentials over Unix sockets."""
    return (os.name == "posix" and hasattr(socket, "AF_UNIX") and hasattr(socket, "SO_PEERCRED")
            and hasattr(socket, "send_fds") and hasattr(os, "fork"))


def enabled() -> bool:
    return os.environ.get("AUTOGRADER_CHECK_WARM", "1").strip().lower() not in (
        "0", "no", "off", "false") and supported()


def idle_seconds() -> float:
    try:
        return max(float(os.environ.get("AUTOGRADER_CHECK_IDLE", IDLE_SECONDS)), 1.0)
    except ValueError:
        return IDLE_SECONDS


def folder() -> Path:
    """The private folder of the sockets (created 0700 if absent; not validated here)."""
    chosen = os.environ.get("AUTOGRADER_CHECK_DIR")
    if chosen:
        return Path(chosen)
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime):
        return Path(runtime) / "autograder"
    import tempfile

    return Path(tempfile.gettempdir()) / f"autograder-{os.getuid()}"


def private_folder(path: Path, create: bool = True) -> bool:
    """``path`` is a real folder owned by this user that nobody else can enter."""
    if create:
        with contextlib.suppress(OSError):
            os.mkdir(path, 0o700)
    try:
        info = os.lstat(path)
    except OSError:
        return False
    return (stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid()
            and stat.S_IMODE(info.st_mode) & 0o077 == 0)


def server_name() -> str:
    """One server per checkout and interpreter."""
    key = f"{PACKAGE}\0{sys.executable}".encode()
    return "check-" + hashlib.sha256(key).hexdigest()[:12]


def code_stamp() -> str:
    """What the server's imports depend on: the package's files, the interpreter, the env."""
    digest = hashlib.sha256(f"{sys.executable}\0{sys.version}\0{sys.flags}".encode())
    for name in IMPORT_ENV:
        digest.update(f"\0{name}={os.environ.get(name)}".encode())
    for path in sorted(PACKAGE.rglob("*.py")):
        with contextlib.suppress(OSError):
            info = path.stat()
            digest.update(f"\0{path}\0{info.st_mtime_ns}\0{info.st_size}".encode())
    return digest.hexdigest()


def peer_uid(conn: socket.socket) -> int:
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    uid: int = struct.unpack("3i", creds)[1]
    return uid


def send_line(conn: socket.socket, message: dict[str, Any]) -> None:
    conn.sendall(json.dumps(message).encode() + b"\n")


def read_line(conn: socket.socket, buffer: bytearray) -> dict[str, Any] | None:
    """The next JSON line (``buffer`` keeps what was read past it); None at EOF or garbage."""
    while b"\n" not in buffer:
        chunk = conn.recv(65536)
        if not chunk or len(buffer) > MAX_LINE:
            return None
        buffer += chunk
    line, _, rest = bytes(buffer).partition(b"\n")
    buffer[:] = rest
    try:
        message = json.loads(line)
    except ValueError:
        return None
    return message if isinstance(message, dict) else None


# ----------------------------------------------------------------------------- client


def opted_out(argv: Sequence[str]) -> bool:
    """``--no-warm`` or an abbreviation argparse accepts (``--no``), before any ``--``."""
    for arg in argv:
        if arg == "--":
            return False
        if len(arg) >= 3 and "--no-warm".startswith(arg):
            return True
    return False


def attempt(argv: Sequence[str]) -> tuple[int | None, bool]:
    """Run the check in the warm server: (its exit code, False), or (None, start a server?).

    Nothing of the check is imported here: the server's child parses ``argv``.
    """
    if not enabled() or opted_out(argv):
        return None, False
    where = folder()
    if not private_folder(where):
        return None, False
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.settimeout(CONNECT_SECONDS)
        try:
            conn.connect(str(where / f"{server_name()}.sock"))
        except OSError:
            conn.close()
            return None, True  # no server (or a dead one's socket): a new one replaces it
        if peer_uid(conn) != os.getuid():
            conn.close()
            return None, False
        ready = _offer(conn, argv)
    except (OSError, ValueError):  # the server is gone or confused: nothing has run yet
        conn.close()
        return None, True
    if ready is not True:
        conn.close()
        return None, ready in ("stale", "no reply")
    try:
        return _committed(conn), False
    finally:
        conn.close()


def _offer(conn: socket.socket, argv: Sequence[str]) -> bool | str:
    """Send the request; True when the server is ready to run it, else its refusal."""
    request = {"argv": list(argv), "sys_argv": list(sys.argv), "cwd": os.getcwd(),
               "env": dict(os.environ),
               "stamp": code_stamp(), "umask": _umask(),
               "streams": [_stream_mode(s) for s in (sys.stdin, sys.stdout, sys.stderr)]}
    payload = json.dumps(request).encode() + b"\n"
    socket.send_fds(conn, [payload[:4096]], [0, 1, 2])
    conn.sendall(payload[4096:])
    reply = read_line(conn, bytearray())
    if not reply:
        return "no reply"
    return True if reply.get("ready") is True else str(reply.get("refused"))


def _committed(conn: socket.socket) -> int:
    """Tell the server to run the check (from here on it runs there, never also here)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    buffer, finished = bytearray(), None
    try:
        conn.settimeout(None)
        conn.sendall(b"g")
        started = read_line(conn, buffer)
        if started and isinstance(started.get("pid"), int):
            child = started["pid"]
            previous = signal.signal(signal.SIGINT, lambda *_: _forward(child))
            try:
                finished = read_line(conn, buffer)
            finally:
                signal.signal(signal.SIGINT, previous)
    except OSError:
        finished = None
    if not finished or not isinstance(finished.get("exit"), int):
        print("autograder: error: the check server stopped during the check; run it again "
              "(or with --no-warm)", file=sys.stderr)
        return 2
    code: int = finished["exit"]
    if code < 0:  # the check died of a signal: so does this process, as the cold one would
        sys.stdout.flush()
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
        return 128 - code
    return code


def _forward(child: int) -> None:
    """Ctrl-C reaches the check as it would in the cold path (an interrupted cell)."""
    with contextlib.suppress(OSError):
        os.kill(child, signal.SIGINT)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _stream_mode(stream: object) -> dict[str, Any]:
    return {"encoding": getattr(stream, "encoding", None) or "utf-8",
            "errors": getattr(stream, "errors", None) or "strict",
            "line_buffering": bool(getattr(stream, "line_buffering", False))}


def start_server() -> None:
    """Start this user's check server, detached; it outlives this process (idle timeout)."""
    import subprocess

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    where = folder()
    if not private_folder(where):
        return
    with contextlib.suppress(OSError), \
            open(where / f"{server_name()}.log", "ab") as log:
        subprocess.Popen([sys.executable, "-m", "autograder.student.check_server", str(where),
                          server_name()], stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                         cwd="/", env=ENVIRONMENT, start_new_session=True, close_fds=True)
