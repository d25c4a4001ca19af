"""How a sandbox is started and how it is seen from outside.

Only command lines and facts, no running state: the bubblewrap namespaces and
binds (the interpreter's own directories and nothing of the project), the
worker's clean environment, the unprivileged uid (``setpriv``), the rlimits
(``prlimit``), the check that bubblewrap works here, and what ``/proc`` says
about a sandbox's processes. ``sandbox`` runs them.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import select
import shutil
import signal
import site
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # autograder/
PROJECT_ROOT = PACKAGE_DIR.parent
# The engine's files that run inside the sandbox: this folder is bound read-only at SANDBOX_LIB
# (its ``worker.py`` is the zygote; it imports the others as its siblings).
INSIDE_DIR = PACKAGE_DIR / "inside"
SANDBOX_HOME = "/home/student"
SANDBOX_LIB = "/opt/autograder"
UID_BASE = 61000
MiB = 1024 * 1024


def cache_dir() -> Path:
    """The user's cache for what the engine computes once per machine (``$XDG_CACHE_HOME``
    or ``~/.cache``, then ``autograder``): the grader versions' file lists, the fonts."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "autograder"


@dataclass(frozen=True, slots=True)
class Limits:
    """Resource limits for one submission, all enforced from outside the worker.

    ``memory_bytes`` is the cgroup's memory limit and, unless ``address_space_bytes``
    is given, also the address-space rlimit; a library such as torch maps far more
    address space than it uses (a warmed torch worker maps ~780 MiB before any
    student tensor), so its assignments set the two apart.
    """

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
    address_space_bytes: int | None = None  # None: memory_bytes

    def __post_init__(self) -> None:
        for name in self.__slots__:
            if getattr(self, name) is None and name == "address_space_bytes":
                continue
            if getattr(self, name) <= 0:
                raise ValueError(f"limit {name} must be positive, got {getattr(self, name)!r}")

    @property
    def address_space(self) -> int:
        """The address-space rlimit of the sandbox's processes, in bytes."""
        return self.address_space_bytes or self.memory_bytes


@functools.cache
def bubblewrap_problem() -> str | None:
    """None if bubblewrap works here, else why not (checked once per process)."""
    if os.environ.get("AUTOGRADER_NO_BWRAP"):
        return "bubblewrap disabled by AUTOGRADER_NO_BWRAP"
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bubblewrap (bwrap) is not installed (apt-get install bubblewrap)"
    command = [bwrap, *namespace_flags(), *bind_flags(), "--", sys.executable, "-c", "pass"]
    try:
        result = subprocess.run(command, capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap could not start: {exc}"
    if result.returncode != 0:
        said = result.stderr.decode(errors="replace").strip()[:300]
        return (f"bubblewrap is installed but cannot start here ({said}): the kernel or the "
                "container forbids the namespaces it needs, as Gradescope's containers do")
    return None


def namespace_flags(nested_userns: bool = False) -> list[str]:
    """bubblewrap's namespaces; ``nested_userns`` lets the zygote's children build a world of
    their own (``isolate``): only when they install the seccomp filter, which then forbids it."""
    flags = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
             "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--as-pid-1"]
    if os.geteuid() == 0:  # real root: drop to a uid of our own with setpriv inside
        flags += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:  # an ordinary user: a user namespace is the only way in
        flags += ["--unshare-user"] + ([] if nested_userns else ["--disable-userns"])
    return flags


def python_dirs() -> list[str]:
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


def bind_flags() -> list[str]:
    flags = ["--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc",
             "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
             "--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin",
             "--proc", "/proc", "--dev", "/dev"]
    made: set[str] = {"/usr", "/etc", "/lib", "/lib64", "/bin", "/sbin", "/proc", "/dev", "/",
                      "/tmp", "/home", SANDBOX_HOME}
    for path in python_dirs():
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


SERIAL = itertools.count()


def setpriv(uid: int) -> list[str]:
    return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]


@functools.cache
def fallback_can_drop(uid: int) -> bool:
    """Whether the interpreter still starts as ``uid`` (it may live under a private home)."""
    command = [*setpriv(uid), sys.executable, "-E", "-s", "-c", "import numpy, IPython"]
    try:
        return subprocess.run(command, capture_output=True, timeout=60, cwd="/",
                              check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def fallback_drop(uid: int) -> list[str]:
    """Without bubblewrap, as root: still run as a spare uid when the interpreter allows it."""
    if os.geteuid() == 0 and fallback_can_drop(UID_BASE):
        return setpriv(uid)
    return []


def prlimit(limits: Limits) -> list[str]:
    return ["prlimit", f"--as={limits.address_space}", f"--cpu={limits.cpu_seconds}",
            f"--nproc={limits.processes}", f"--fsize={limits.file_bytes}",
            f"--nofile={limits.open_files}", "--core=0", "--"]


def exited(pidfd: int) -> bool:
    readable, _, _ = select.select([pidfd], [], [], 0)
    return bool(readable)


def describe_exit(status: Any) -> str:
    if not isinstance(status, dict):
        return "the process running the notebook was killed"
    number = status.get("signal")
    if type(number) is int:
        name = signal.Signals(number).name if number in signal.valid_signals() else str(number)
        if name == "SIGXCPU":
            return "it used up its CPU-time limit and was killed"
        return f"the process running the notebook was killed by {name}"
    return f"the process running the notebook exited with code {status.get('code')}"


def proc_field(pid: int, name: str) -> str | None:
    with contextlib.suppress(OSError):
        if name == "ns":
            return os.readlink(f"/proc/{pid}/ns/pid")
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return fields[3]  # session id
    return None


def same_namespace(pid: int) -> set[int]:
    target = proc_field(pid, "ns")
    return {p for p in all_pids() if target and proc_field(p, "ns") == target}


def same_session(pid: int) -> set[int]:
    target = proc_field(pid, "session")
    return {p for p in all_pids() if target and proc_field(p, "session") == target}


def all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]
