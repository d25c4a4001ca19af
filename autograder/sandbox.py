"""Start, talk to and kill the confined worker that runs one student's code.

What may happen here: a worker process is started inside bubblewrap (its own
PID, network, IPC and UTS namespaces; a read-only view of the system and the
Python installation only; a small in-memory home with the assignment's public
files; an unprivileged uid of its own), with resource limits set by
``prlimit`` before anything of the student's runs. Every wait on the worker
has a deadline; past it the worker gets SIGINT (Jupyter's interrupt), then,
after a grace period, SIGKILL for the whole sandbox.

What may not happen here: reading anything from the worker other than
length-capped protocol frames (parsed by ``protocol``, never unpickled), or
trusting a reply beyond "this is what the worker claims".

Where bubblewrap is missing or cannot start, the worker runs as a plain
process with the same limits, in a temporary directory, and ``warning`` says
what is lost.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import os
import select
import shutil
import signal
import site
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import protocol
from .confine import Cgroup, seccomp_fd

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent
SANDBOX_HOME = "/home/student"
SANDBOX_LIB = "/opt/autograder"
UID_BASE = 61000
MiB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    """Resource limits for one submission, all enforced from outside the worker."""

    cell_seconds: float = 10.0
    call_seconds: float = 5.0
    submission_seconds: float = 120.0
    startup_seconds: float = 30.0
    interrupt_grace_seconds: float = 1.0
    cpu_seconds: int = 60
    memory_bytes: int = 1024 * MiB
    processes: int = 32
    file_bytes: int = 16 * MiB
    scratch_bytes: int = 64 * MiB
    open_files: int = 256
    output_bytes: int = 64 * 1024
    reply_bytes: int = 8 * MiB
    restarts: int = 3

    def __post_init__(self) -> None:
        for name in self.__slots__:
            if getattr(self, name) <= 0:
                raise ValueError(f"limit {name} must be positive, got {getattr(self, name)!r}")


class WorkerGone(Exception):
    """The worker died, was killed, or broke the protocol; it is dead now."""

    def __init__(self, reason: str, timed_out: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.timed_out = timed_out


class WorkerTimeout(Exception):
    """The request ran past its deadline and was interrupted; the worker lives."""


@functools.cache
def bubblewrap_problem() -> str | None:
    """None if bubblewrap works here, else why not (checked once per process)."""
    if os.environ.get("AUTOGRADER_NO_BWRAP"):
        return "bubblewrap disabled by AUTOGRADER_NO_BWRAP"
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bubblewrap (bwrap) is not installed"
    command = [bwrap, *_namespace_flags(), *_bind_flags(), "--", sys.executable, "-c", "pass"]
    try:
        result = subprocess.run(command, capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap could not start: {exc}"
    if result.returncode != 0:
        return f"bubblewrap could not start: {result.stderr.decode(errors='replace').strip()[:300]}"
    return None


def _namespace_flags() -> list[str]:
    flags = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
             "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--as-pid-1"]
    if os.geteuid() == 0:  # real root: drop to a uid of our own with setpriv inside
        flags += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:  # an ordinary user: a user namespace is the only way in
        flags += ["--unshare-user", "--disable-userns"]
    return flags


def _python_dirs() -> list[str]:
    """The interpreter's own directories: prefixes and sysconfig paths, nothing else.

    Never ``sys.path`` as a whole: it holds the working directory (a TA's
    grading folder) and the project's source tree (graders, solutions).
    """
    wanted = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    for scheme_path in ("stdlib", "platstdlib", "purelib", "platlib"):
        wanted.add(sysconfig.get_paths()[scheme_path])
    wanted.update(site.getsitepackages())
    root = str(PROJECT_ROOT)
    venv = os.path.realpath(sys.prefix)
    kept: list[str] = []
    for path in sorted({os.path.realpath(p) for p in wanted if os.path.isdir(p)}):
        if path in ("/usr", "/etc") or path.startswith(("/usr/", "/etc/")):
            continue  # bound as a whole
        if (path == root or path.startswith(root + os.sep)) and not (
                path == venv or path.startswith(venv + os.sep)):
            continue  # never the project's tree, only its virtual environment
        if any(path.startswith(k + os.sep) for k in kept):
            continue
        kept.append(path)
    return kept


def _bind_flags() -> list[str]:
    flags = ["--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc",
             "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
             "--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin",
             "--proc", "/proc", "--dev", "/dev"]
    made: set[str] = {"/usr", "/etc", "/lib", "/lib64", "/bin", "/sbin", "/proc", "/dev", "/",
                      "/tmp", "/home", SANDBOX_HOME}
    for path in _python_dirs():
        for parent in reversed(Path(path).parents):
            if str(parent) not in made:
                flags += ["--perms", "0755", "--dir", str(parent)]
                made.add(str(parent))
        flags += ["--ro-bind", path, path]
        made.add(path)
    return flags


def worker_env() -> dict[str, str]:
    env = {
        "HOME": SANDBOX_HOME, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp/matplotlib", "IPYTHONDIR": "/tmp/ipython",
        "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1",
    }
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # needed on some CPUs
        if name in os.environ:
            env[name] = os.environ[name]
    return env


_SERIAL = itertools.count()


def _setpriv(uid: int) -> list[str]:
    return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]


@functools.cache
def _fallback_can_drop(uid: int) -> bool:
    """Whether the interpreter still starts as ``uid`` (it may live under a private home)."""
    command = [*_setpriv(uid), sys.executable, "-E", "-s", "-c", "import numpy, IPython"]
    try:
        return subprocess.run(command, capture_output=True, timeout=60, cwd="/",
                              check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _fallback_drop(uid: int) -> list[str]:
    """Without bubblewrap, as root: still run as a spare uid when the interpreter allows it."""
    if os.geteuid() == 0 and _fallback_can_drop(UID_BASE):
        return _setpriv(uid)
    return []


def _prlimit(limits: Limits) -> list[str]:
    return ["prlimit", f"--as={limits.memory_bytes}", f"--cpu={limits.cpu_seconds}",
            f"--nproc={limits.processes}", f"--fsize={limits.file_bytes}",
            f"--nofile={limits.open_files}", "--core=0", "--"]


class Worker:
    """One live worker process and the two pipes to it."""

    def __init__(self, public_files: list[Path], limits: Limits, uid: int | None = None, *,
                 real_otter: bool = False) -> None:
        self.limits = limits
        self.warning = bubblewrap_problem()
        self.weaknesses: list[str] = [self.warning] if self.warning else []
        self._tempdir: str | None = None
        self._next_id = 1
        self.output = bytearray()
        self.output_dropped = 0
        self._cgroup = Cgroup.create(f"autograder-{os.getpid()}-{next(_SERIAL)}",
                                     limits.memory_bytes, limits.processes)
        if self._cgroup is None:
            self.weaknesses.append("no cgroup memory/process limit (needs root and a writable "
                                   "cgroup file system); rlimits only")
        request_r, self._request_w = os.pipe()
        self._reply_r, reply_w = os.pipe()
        output_r, output_w = os.pipe()
        info_r, info_w = os.pipe()
        fds = [request_r, reply_w, output_w, info_w]
        python = [sys.executable, "-E", "-s", "-B"]
        worker_args = [str(request_r), str(reply_w)] + (["--real-otter"] if real_otter else [])
        uid = uid if uid is not None else UID_BASE + os.getpid() % 4000
        if self.warning is None:
            filter_fd = seccomp_fd()
            if filter_fd is None:
                self.weaknesses.append("no seccomp filter (pyseccomp/libseccomp unavailable)")
            else:
                fds.append(filter_fd)
            command = self._bwrap_command(public_files, info_w, uid, filter_fd)
            command += [*python, f"{SANDBOX_LIB}/worker.py", *worker_args]
            cwd = "/"
        else:
            self._tempdir = tempfile.mkdtemp(prefix="autograder-worker-")
            for path in public_files:
                shutil.copy(path, self._tempdir)
            os.chmod(self._tempdir, 0o777)
            command = [*_fallback_drop(uid), *python, str(PACKAGE_DIR / "worker.py"), *worker_args]
            cwd = self._tempdir
        try:
            self._process = subprocess.Popen(
                _prlimit(limits) + command, stdin=subprocess.DEVNULL, stdout=output_w,
                stderr=output_w, pass_fds=fds, cwd=cwd, env=worker_env(),
                start_new_session=True)
        finally:
            for fd in fds:
                os.close(fd)
        self.pid = self._process.pid
        threading.Thread(target=self._drain, args=(output_r,), daemon=True).start()
        deadline = time.monotonic() + limits.startup_seconds
        try:
            if self.warning is None:
                self.pid = self._read_child_pid(info_r, deadline)
            if self._cgroup is not None:  # before any student code: the worker waits for us
                self._cgroup.add(self.pid)
            ready = self._read_reply(deadline)
        except (WorkerGone, WorkerTimeout, OSError) as exc:
            self.kill()
            said = self.output.decode(errors="replace").strip()[-300:]
            raise WorkerGone(f"the worker did not start: {exc}"
                             + (f" (it printed: {said})" if said else "")) from None
        finally:
            os.close(info_r)
        if ready.get("status") != "ready":
            self.kill()
            raise WorkerGone("the worker did not start")

    def _bwrap_command(self, public_files: list[Path], info_w: int, uid: int,
                       filter_fd: int | None) -> list[str]:
        limits = self.limits
        # scratch first: a Python installation or venv under /tmp or home is bound on top
        command = ["bwrap", *_namespace_flags(),
                   "--size", str(limits.scratch_bytes), "--perms", "1777", "--tmpfs", "/tmp",
                   "--size", str(limits.scratch_bytes), "--perms", "0777", "--tmpfs", SANDBOX_HOME,
                   *_bind_flags(), "--perms", "0755", "--dir", SANDBOX_LIB]
        for name in ("worker.py", "protocol.py"):
            command += ["--ro-bind", str(PACKAGE_DIR / name), f"{SANDBOX_LIB}/{name}"]
        for path in public_files:  # read-only copies of the public files, by name
            command += ["--ro-bind", str(path), f"{SANDBOX_HOME}/{path.name}"]
        command += ["--chdir", SANDBOX_HOME, "--clearenv"]
        for key, value in worker_env().items():
            command += ["--setenv", key, value]
        if filter_fd is not None:
            command += ["--seccomp", str(filter_fd)]
        command += ["--info-fd", str(info_w), "--"]
        if os.geteuid() == 0:
            command += _setpriv(uid)
        return command

    # ------------------------------------------------------------------ I/O

    def _drain(self, fd: int) -> None:
        """Keep the first ``output_bytes`` of what the worker prints; drop the rest."""
        with contextlib.suppress(OSError):
            while chunk := os.read(fd, 65536):
                room = self.limits.output_bytes - len(self.output)
                if room > 0:
                    self.output += chunk[:room]
                self.output_dropped += max(0, len(chunk) - max(room, 0))
        os.close(fd)

    def _read_child_pid(self, fd: int, deadline: float) -> int:
        data = self._read_until_eof(fd, deadline, 4096)
        for line in data.decode(errors="replace").split("\n"):
            with contextlib.suppress(ValueError):
                info = json.loads(line or "{}")
                if isinstance(info, dict) and type(info.get("child-pid")) is int:
                    return int(info["child-pid"])
        with contextlib.suppress(ValueError):
            info = json.loads(data)
            if type(info.get("child-pid")) is int:
                return int(info["child-pid"])
        raise WorkerGone("bubblewrap did not report the sandbox's pid")

    @staticmethod
    def _read_until_eof(fd: int, deadline: float, cap: int) -> bytes:
        data = b""
        while len(data) < cap:
            _wait_readable(fd, deadline)
            chunk = os.read(fd, cap)
            if not chunk:
                break
            data += chunk
        return data

    def _read_exact(self, size: int, deadline: float) -> bytes:
        chunks, remaining = [], size
        while remaining:
            _wait_readable(self._reply_r, deadline)
            chunk = os.read(self._reply_r, min(remaining, 1 << 20))
            if not chunk:
                raise WorkerGone(self._death_reason())
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def _read_reply(self, deadline: float) -> dict[str, Any]:
        """One frame from the worker, or WorkerTimeout at the deadline."""
        (size,) = protocol.HEADER.unpack(self._read_exact(protocol.HEADER.size, deadline))
        if size > self.limits.reply_bytes:
            self.kill()
            raise WorkerGone(f"a reply of {size} bytes exceeds the {self.limits.reply_bytes}-byte limit")
        payload = self._read_exact(size, deadline + self.limits.interrupt_grace_seconds)
        try:
            return protocol.parse_message(payload)
        except protocol.ProtocolError as exc:
            self.kill()
            raise WorkerGone(f"the worker's reply broke the protocol: {exc}") from None

    def request(self, message: dict[str, Any], seconds: float) -> dict[str, Any]:
        """Send ``message``; return the reply or raise WorkerTimeout / WorkerGone.

        Past ``seconds`` the worker is interrupted (SIGINT) and given a grace
        period to answer; a worker that does not answer is killed.
        """
        if not self.alive:
            raise WorkerGone("the worker is not running")
        request_id = self._next_id
        self._next_id += 1
        deadline = time.monotonic() + seconds
        try:
            self._send(dict(message, id=request_id), deadline)
            reply = self._read_reply(deadline)
        except WorkerTimeout:
            self._interrupt()
            try:
                reply = self._read_reply(time.monotonic() + self.limits.interrupt_grace_seconds)
            except WorkerTimeout:
                self.kill()
                raise WorkerGone("it did not stop when interrupted and was killed",
                                 timed_out=True) from None
            if reply.get("id") != request_id:
                self.kill()
                raise WorkerGone("the worker's reply did not match the request") from None
            raise WorkerTimeout(str(seconds)) from None
        if reply.get("id") != request_id:
            self.kill()
            raise WorkerGone("the worker's reply did not match the request")
        return reply

    def _send(self, message: dict[str, Any], deadline: float) -> None:
        payload = json.dumps(message, separators=(",", ":")).encode()
        view = memoryview(protocol.HEADER.pack(len(payload)) + payload)
        while view:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WorkerTimeout("the worker did not read its request")
            _, writable, _ = select.select([], [self._request_w], [], remaining)
            if writable:
                try:
                    view = view[os.write(self._request_w, view[: 1 << 16]):]
                except (BrokenPipeError, OSError):
                    raise WorkerGone(self._death_reason()) from None

    def _interrupt(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(self.pid, signal.SIGINT)

    # ------------------------------------------------------------------ life

    @property
    def alive(self) -> bool:
        return self._process.poll() is None

    def _death_reason(self) -> str:
        try:
            code = self._process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.kill()
            return "the worker closed its channel"
        if code < 0 or code > 128:
            number = -code if code < 0 else code - 128
            name = signal.Signals(number).name if number in signal.valid_signals() else str(number)
            if name == "SIGXCPU":
                return "it used up its CPU-time limit and was killed"
            return f"the process running the notebook was killed by {name}"
        return f"the process running the notebook exited with code {code}"

    def kill(self) -> None:
        """SIGKILL the sandbox (its PID namespace dies with it) and the process group."""
        for target in (self.pid, self._process.pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(target, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._process.pid, signal.SIGKILL)
        if self._cgroup is not None:
            self._cgroup.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(timeout=5)

    def close(self) -> None:
        if self.alive:
            with contextlib.suppress(WorkerGone, WorkerTimeout, OSError):
                self._send({"op": "exit", "id": 0}, time.monotonic() + 0.5)
        self.kill()
        for fd in (self._request_w, self._reply_r):
            with contextlib.suppress(OSError):
                os.close(fd)
        if self._cgroup is not None:
            self._cgroup.remove()
        if self._tempdir:
            shutil.rmtree(self._tempdir, ignore_errors=True)

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _wait_readable(fd: int, deadline: float) -> None:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise WorkerTimeout("deadline passed")
    readable, _, _ = select.select([fd], [], [], remaining)
    if not readable:
        raise WorkerTimeout("deadline passed")
