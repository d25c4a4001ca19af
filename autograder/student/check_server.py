"""This user's check server: ``python -m autograder.student.check_server FOLDER NAME`` (see ``check_warm``).

It imports what a check needs once, then per request forks a child that waits
for a grandchild running ``check.main`` with the client's arguments, working
folder, environment and stdin/stdout/stderr, and sends its exit status back.
The grandchild is a fresh copy of a process that never ran student code.
The server exits after ``AUTOGRADER_CHECK_IDLE`` seconds without a request, when
its code is stale, or when another server holds its lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
import signal
import socket
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from . import check_warm

LOCK_WAIT_SECONDS = 5.0  # a stale server replaced: it is exiting, wait for its lock
REQUEST_SECONDS = 5.0


def preload() -> None:
    """The imports every check pays for: afterwards a check starts at the notebook's cells."""
    from ..grading import session  # noqa: F401 - imported for what it imports
    from ..inside import kernel_shell
    from . import check

    kernel_shell.preload()
    for module in ("matplotlib_inline.backend_inline", "IPython.core.interactiveshell",
                   "nbformat"):
        with contextlib.suppress(Exception):
            __import__(module)
    with contextlib.suppress(Exception):
        check._otter_test_file()
    with contextlib.suppress(Exception):  # nbformat builds its schema validator on first use
        import nbformat

        nbformat.validate(nbformat.v4.new_notebook())
    with contextlib.suppress(Exception):  # the first axes load fonts and tickers: pyplot untouched
        from matplotlib.figure import Figure

        Figure().subplots(2, 2)


def serve(folder: Path, name: str) -> int:
    if not check_warm.private_folder(folder, create=False):
        print(f"check server: {folder} is not a private folder of this user", file=sys.stderr)
        return 2
    lock = open(folder / f"{name}.lock", "a+")  # noqa: SIM115 - held for the server's life
    if not _take(lock):
        return 0  # another server serves this checkout
    stamp = check_warm.code_stamp()
    preload()
    path = folder / f"{name}.sock"
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    os.chmod(path, 0o600)
    inode = os.stat(path).st_ino
    listener.listen(16)
    lock.truncate(0)
    lock.write(f"{os.getpid()}\n")
    lock.flush()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # remove the socket on the way out
    listener.settimeout(check_warm.idle_seconds())
    try:
        while True:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                return 0  # idle
            with conn:
                if not _handle(conn, (listener, lock), stamp):
                    return 0  # stale
    finally:
        with contextlib.suppress(OSError):
            if os.stat(path).st_ino == inode:  # not a newer server's socket
                path.unlink()
        listener.close()


def _take(lock: Any) -> bool:
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)


def _handle(conn: socket.socket, servers: tuple[Any, ...], stamp: str) -> bool:
    """One request; False when this server is stale and must exit.

    ``servers`` (the listening socket, the lock) are closed in the child: a check
    never holds the lock that lets the next server start.
    """
    fds: list[int] = []
    try:
        conn.settimeout(REQUEST_SECONDS)
        if check_warm.peer_uid(conn) != os.getuid():
            check_warm.send_line(conn, {"refused": "another user"})
            return True
        data, fds, _flags, _addr = socket.recv_fds(conn, 65536, 3)
        buffer = bytearray(data)
        request = check_warm.read_line(conn, buffer)
        if request is None or len(fds) != 3 or not _well_formed(request):
            check_warm.send_line(conn, {"refused": "bad request"})
            return True
        reason = ("the client's code or environment differs" if request["stamp"] != stamp else
                  "the package's files changed" if check_warm.code_stamp() != stamp else "")
        if reason:
            print(f"check server {os.getpid()}: stale ({reason}); exiting", file=sys.stderr)
            check_warm.send_line(conn, {"refused": "stale"})
            return False
        if os.fork() == 0:  # the child: runs the check in a grandchild, reports its status
            code = 1
            try:
                for signum in (signal.SIGCHLD, signal.SIGTERM):
                    signal.signal(signum, signal.SIG_DFL)
                for held in servers:
                    held.close()
                code = _supervise(conn, request, fds)
            finally:
                os._exit(code)
        return True
    except OSError:
        return True
    finally:
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)


def _well_formed(request: dict[str, Any]) -> bool:
    return (all(isinstance(request.get(key), list) and all(isinstance(a, str) for a in request[key])
                for key in ("argv", "sys_argv"))
            and isinstance(request.get("cwd"), str) and isinstance(request.get("env"), dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in request["env"].items())
            and isinstance(request.get("stamp"), str) and isinstance(request.get("umask"), int)
            and isinstance(request.get("streams"), list) and len(request["streams"]) == 3
            and all(isinstance(s, dict) for s in request["streams"]))


def _supervise(conn: socket.socket, request: dict[str, Any], fds: list[int]) -> int:
    """Run the check once the client commits to it (until then it may still run cold)."""
    check_warm.send_line(conn, {"ready": True})
    if conn.recv(1) != b"g":
        return 0
    pid = os.fork()
    if pid == 0:
        conn.close()
        os._exit(_run_check(request, fds))
    for fd in fds:
        os.close(fd)
    fds.clear()
    check_warm.send_line(conn, {"pid": pid})
    _, status = os.waitpid(pid, 0)
    check_warm.send_line(conn, {"exit": os.waitstatus_to_exitcode(status)})
    return 0


def _run_check(request: dict[str, Any], fds: list[int]) -> int:
    """In the grandchild: become the client's process (stdio, folder, env), then check."""
    code = 1
    try:
        os.setsid()
        for fd, target in zip(fds, (0, 1, 2), strict=True):
            os.dup2(fd, target)
            os.close(fd)
        for signum in (signal.SIGTERM, signal.SIGPIPE):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if sys.path and sys.path[0] == os.getcwd():  # -m put the server's folder first
            sys.path[0] = request["cwd"]  # the client's, as its own -m would
        os.chdir(request["cwd"])
        sys.argv = list(request["sys_argv"])
        os.umask(request["umask"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.stdin, sys.stdout, sys.stderr = (_stream(fd, mode) for fd, mode in
                                             zip((0, 1, 2), request["streams"], strict=True))
        from .check import main

        try:
            code = main(request["argv"])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            if exc.code is not None and not isinstance(exc.code, int):
                print(exc.code, file=sys.stderr)
        except BaseException:  # noqa: BLE001 - as an uncaught exception of the cold path
            traceback.print_exc()
            code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
    return code


def _stream(fd: int, mode: dict[str, Any]) -> io.TextIOWrapper:
    binary = open(fd, "rb" if fd == 0 else "wb", closefd=False)  # noqa: SIM115
    return io.TextIOWrapper(binary, encoding=str(mode.get("encoding") or "utf-8"),
                            errors=str(mode.get("errors") or "strict"),
                            line_buffering=bool(mode.get("line_buffering")),
                            write_through=fd == 2)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python -m autograder.student.check_server FOLDER NAME")
    sys.exit(serve(Path(sys.argv[1]), sys.argv[2]))
