"""Kernel-level confinement of a worker beyond namespaces and rlimits.

* ``seccomp_filter()``: a seccomp program (built with libseccomp through
  pyseccomp) that bubblewrap installs before the worker starts. It refuses the
  system calls a submission could use to leave or reshape its sandbox: new
  namespaces (``unshare``, ``setns``, namespace flags of ``clone``; ``clone3``
  reports ENOSYS so the C library falls back to ``clone``), mounts, ``ptrace``
  and cross-process memory access, keyrings, BPF, ``userfaultfd``,
  ``perf_event_open``, kernel modules, ``reboot``.
* ``Cgroup``: a memory and process-count limit for the whole sandbox, which
  (unlike ``RLIMIT_AS``) also counts tmpfs and shared-memory pages and every
  process the submission starts. cgroup v2 and v1 (memory + pids controllers)
  are supported; where neither can be written (not root, read-only cgroupfs)
  ``Cgroup.create`` returns None and the caller records that.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import re
import signal
import time
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
DENIED_SYSCALLS = (
    "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "mount_setattr",
    "open_tree", "move_mount", "fsopen", "fsconfig", "fsmount", "fspick",
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp",
    "keyctl", "add_key", "request_key", "bpf", "userfaultfd", "perf_event_open",
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
    "reboot", "swapon", "swapoff", "acct", "syslog", "open_by_handle_at", "name_to_handle_at",
)
CLONE_NAMESPACE_FLAGS = (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000,
                         0x20000000, 0x40000000, 0x00000080)  # NEWNS..NEWNET, NEWTIME


# without bubblewrap there is no IPC namespace, and POSIX message queues cannot be listed
# (and so removed) unless /dev/mqueue is mounted: the fallback refuses to open any
FALLBACK_DENIED = ("mq_open",)


@functools.cache
def seccomp_filter(fallback: bool = False) -> bytes | None:
    """The compiled BPF program for bubblewrap's ``--seccomp``, or None if unavailable;
    ``fallback``: for a worker without bubblewrap (``FALLBACK_DENIED`` too)."""
    try:
        import pyseccomp as seccomp
    except (ImportError, OSError):
        return None
    try:
        rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
        for name in DENIED_SYSCALLS + (FALLBACK_DENIED if fallback else ()):
            with contextlib.suppress(Exception):  # a call this kernel/arch does not have
                rules.add_rule(seccomp.ERRNO(errno.EPERM), name)
        for flag in CLONE_NAMESPACE_FLAGS:
            rules.add_rule(seccomp.ERRNO(errno.EPERM), "clone",
                           seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
        with contextlib.suppress(Exception):
            rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
        read, write = os.pipe()
        with os.fdopen(write, "wb") as sink:
            rules.export_bpf(sink)
        with os.fdopen(read, "rb") as source:
            return source.read()
    except Exception:  # noqa: BLE001 - libseccomp missing or too old: report, do not crash
        return None


def seccomp_fd(fallback: bool = False) -> int | None:
    """A fresh readable fd holding the filter (bubblewrap reads it once), or None."""
    program = seccomp_filter(fallback)
    if program is None:
        return None
    fd = os.memfd_create("autograder-seccomp", os.MFD_CLOEXEC)
    os.write(fd, program)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


@dataclass(frozen=True)
class Cgroup:
    """One cgroup per worker: memory and pids limits; ``kill`` empties it, ``remove`` deletes it."""

    paths: tuple[Path, ...]

    @classmethod
    def create(cls, name: str, memory_bytes: int, processes: int) -> Cgroup | None:
        if os.geteuid() != 0:
            return None
        _sweep_stale()
        for make in (_create_v2, _create_v1):
            with contextlib.suppress(OSError):
                paths = make(name, memory_bytes, processes)
                if paths:
                    return cls(paths)
        return None

    def add(self, pid: int) -> None:
        for path in self.paths:
            (path / "cgroup.procs").write_text(str(pid))

    def pids(self) -> set[int]:
        found: set[int] = set()
        for path in self.paths:
            with contextlib.suppress(OSError, ValueError):
                found.update(int(line) for line in (path / "cgroup.procs").read_text().split())
        return found

    def kill(self) -> None:
        for _ in range(50):
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.01)

    def remove(self) -> None:
        self.kill()
        for path in self.paths:
            for _ in range(250):  # up to 5 s: a loaded machine reaps slowly
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)


STALE = re.compile(r"autograder-(\d+)-\d+-s\d+")


def cgroup_name(serial: int) -> str:
    """``autograder-PID-SERIAL-sSESSION``: the creating process (``_sweep_stale`` removes the
    empty ones of dead processes) and its session, by which one grading run (all its pool
    workers) can tell its own cgroups from those of another run on the same machine."""
    return f"autograder-{os.getpid()}-{serial}-s{os.getsid(0)}"


@functools.cache
def _sweep_stale() -> None:
    """Remove empty cgroups left by grading processes that were killed (once per process)."""
    parents = []
    for controller in ("", "memory", "pids"):
        with contextlib.suppress(OSError, ValueError):
            own = _own_cgroup(controller)
            if own is not None:
                parents.append((CGROUP_ROOT / controller / own) if controller else CGROUP_ROOT / own)
    for parent in parents:
        with contextlib.suppress(OSError):
            for entry in parent.iterdir():
                match = STALE.fullmatch(entry.name)
                if match and entry.is_dir() and not Path(f"/proc/{match[1]}").exists():
                    with contextlib.suppress(OSError):
                        entry.rmdir()  # fails, harmlessly, if a process is still inside


def _own_cgroup(controller: str) -> Path | None:
    """Where this process sits in the hierarchy of ``controller`` ('' for v2)."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(",") or (controller == "" and controllers == ""):
            return Path(path.lstrip("/"))
    return None


def _create_v2(name: str, memory_bytes: int, processes: int) -> tuple[Path, ...]:
    if not (CGROUP_ROOT / "cgroup.controllers").exists():
        return ()
    own = _own_cgroup("")
    if own is None:
        return ()
    parent = CGROUP_ROOT / own
    if not {"memory", "pids"} <= set((parent / "cgroup.subtree_control").read_text().split()):
        return ()
    path = parent / name
    path.mkdir()
    (path / "memory.max").write_text(str(memory_bytes))
    if (path / "memory.swap.max").exists():
        (path / "memory.swap.max").write_text("0")
    (path / "pids.max").write_text(str(processes))
    return (path,)


def _create_v1(name: str, memory_bytes: int, processes: int) -> tuple[Path, ...]:
    made: list[Path] = []
    try:
        for controller, files in (("memory", {"memory.limit_in_bytes": memory_bytes}),
                                  ("pids", {"pids.max": processes})):
            own = _own_cgroup(controller)
            base = CGROUP_ROOT / controller
            if own is None or not base.is_dir():
                raise OSError(f"no {controller} controller")
            path = base / own / name
            path.mkdir()
            made.append(path)
            for file, value in files.items():
                (path / file).write_text(str(value))
    except OSError:
        for path in made:
            with contextlib.suppress(OSError):
                path.rmdir()
        raise
    return tuple(made)
