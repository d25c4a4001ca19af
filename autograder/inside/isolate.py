"""Inside the sandbox, in a freshly forked worker: recreate its world, then confine it.

Bound read-only into the sandbox next to ``worker.py`` (and, like it, imports
nothing of the project). ``fresh_world`` is called by the worker process the
zygote just forked, before any student code, and never by the zygote itself:

1. ``unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWIPC)``: a mount and an IPC
   namespace of the worker's own (the user namespace is what lets an
   unprivileged process own them; it maps only the worker's own uid and gid);
2. fresh, size- and inode-capped tmpfs mounts over ``/tmp``, home and
   ``/dev/shm`` where it is writable, and over home's parent when it holds
   nothing but mounts (bubblewrap's ``/home``: a notebook may write
   ``../data`` as on a student's machine); the assignment's public files are bound read-only into the
   new home. Nothing an earlier submission left in a scratch folder, a SysV
   IPC object or a POSIX message queue is visible here, and everything this
   worker creates is freed by the kernel when its last process dies: no walk
   of any tree, no ``rmtree``, nothing a ``chmod 0`` can keep;
3. every capability dropped (the namespaces' ones included), ``no_new_privs``,
   and the seccomp program installed, which refuses ``unshare``, ``mount`` and
   the rest (see ``confine``), so the student cannot undo any of this.

``probe`` runs the same steps in a throwaway child at the zygote's start: if
the kernel refuses user namespaces here, the sandbox falls back to the zygote
emptying the shared scratch space (and says so).
"""

from __future__ import annotations

import ctypes
import os
import re
import resource
import struct
import sys
from typing import Any

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT = 1, 2, 4, 32
MS_BIND, MS_MOVE, MS_REC, MS_PRIVATE = 4096, 8192, 16384, 1 << 18
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
PR_CAPBSET_DROP = 24
INODES = 20000  # per scratch mount: plenty for a notebook, far below a kernel-memory attack

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                        ctypes.c_char_p]


class IsolationError(OSError):
    """A step of ``fresh_world`` failed; the worker must not serve."""


def _check(result: int, what: str) -> None:
    if result != 0:
        number = ctypes.get_errno()
        raise IsolationError(number, f"{what}: {os.strerror(number)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int,
           data: str | None = None) -> None:
    _check(_libc.mount(source.encode() if source else None, target.encode(),
                       fstype.encode() if fstype else None, flags,
                       data.encode() if data else None), f"mount {target}")


def _tmpfs(target: str, size: int, mode: str) -> None:
    _mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV,
           f"size={size},nr_inodes={INODES},mode={mode}")


def _write(path: str, text: str) -> None:
    with open(path, "w") as handle:
        handle.write(text)


STAGE = "/tmp/.fresh"  # made by the zygote at its start; each worker mounts its own on it


def _mounts_under(folder: str) -> list[str]:
    """Top-level mount points strictly inside ``folder`` (public files, a venv under /tmp)."""
    found = []
    with open("/proc/self/mountinfo") as handle:
        for line in handle:
            point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), line.split()[4])
            if point.startswith(folder.rstrip("/") + "/") and point != STAGE:
                found.append(point)
    kept: list[str] = []
    for point in sorted(set(found)):  # a mount hidden under a carried one is listed too
        if not any(point.startswith(k + "/") for k in kept):
            kept.append(point)
    return kept


def _recreate(folder: str, scratch_bytes: int, mode: str) -> None:
    """A fresh tmpfs over ``folder`` that still holds the mounts that were inside it."""
    carried = _mounts_under(folder)
    _tmpfs(STAGE, scratch_bytes, mode)
    for point in carried:  # bound from the old tree before the new one hides it
        target = STAGE + point[len(folder.rstrip("/")):]
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if os.path.isdir(point):
            os.makedirs(target, exist_ok=True)
        else:
            os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o444))
        _mount(point, target, None, MS_BIND | MS_REC)  # keeps the source's read-only flag
    _mount(STAGE, folder, None, MS_MOVE)


def _only_mounts(folder: str) -> bool:
    """Whether ``folder`` (not ``/``) holds mount points only, so a tmpfs over it that
    carries them hides nothing."""
    if folder in ("", "/"):
        return False
    try:
        entries = os.listdir(folder)
    except OSError:
        return False
    return all(os.path.ismount(os.path.join(folder, entry)) for entry in entries)


def _own_namespaces() -> None:
    """Step 1: user, mount and IPC namespaces of this process's own, mapping only its ids."""
    uid, gid = os.getuid(), os.getgid()
    _check(_libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWIPC), "unshare")
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"{uid} {uid} 1")
    _write("/proc/self/gid_map", f"{gid} {gid} 1")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)


def fresh_world(home: str, scratch_bytes: int, seccomp: bytes | None) -> None:
    """Steps 1-3 above, in the calling (single-threaded, just forked) process."""
    _own_namespaces()
    parent = os.path.dirname(home.rstrip("/"))
    if _only_mounts(parent):  # bubblewrap's /home: `../data` is writable, as a student's is
        _recreate(parent, scratch_bytes, "0755")
    _recreate(home, scratch_bytes, "0755")
    if os.access("/dev/shm", os.W_OK):  # bubblewrap's is not writable: nothing to renew
        _recreate("/dev/shm", scratch_bytes, "1777")
    _recreate("/tmp", scratch_bytes, "1777")  # last: STAGE lives in the old /tmp
    os.chdir(home)  # the old working directory is the hidden home below
    confine(seccomp)


SYS_MOUNT_SETATTR, AT_FDCWD, AT_RECURSIVE, MOUNT_ATTR_RDONLY = 442, -100, 0x8000, 1


def _read_only(path: str, on: bool, recursive: bool) -> None:
    attr = ctypes.create_string_buffer(struct.pack("QQQQ", MOUNT_ATTR_RDONLY if on else 0,
                                                   0 if on else MOUNT_ATTR_RDONLY, 0, 0), 32)
    _check(_libc.syscall(SYS_MOUNT_SETATTR, AT_FDCWD, path.encode(),
                         AT_RECURSIVE if recursive else 0, attr, 32), f"read-only {path}")


SYSTEM = ("/tmp", "/dev", "/proc", "/sys", "/usr", "/etc", "/lib", "/lib64", "/bin", "/sbin",
          "/var", "/run")


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _needed(home: str) -> list[str]:
    """The folders this worker reads from: Python, its libraries, these modules, its home."""
    found = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix,
                                           sys.base_exec_prefix, *sys.path,
                                           os.path.dirname(os.path.realpath(sys.executable)),
                                           os.path.dirname(os.path.abspath(__file__)))
             if p and os.path.isdir(p)} | {home}
    return [p for p in sorted(found) if not any(_inside(p, o) and p != o for o in found)]


def _hidden(roots: list[str], needed: list[str]) -> list[str]:
    """The folders to hide: never a system one, nor one inside what the worker needs."""
    chosen: list[str] = []
    for root in sorted({os.path.realpath(r) for r in roots if r}):
        if (root == "/" or any(_inside(s, root) for s in SYSTEM)
                or any(_inside(root, n) for n in needed)
                or any(_inside(root, c) for c in chosen)):
            continue
        chosen.append(root)
    return chosen


def _replace(folder: str, stage: str, size: int, mode: str, carried: list[str],
             home: str) -> bool:
    """A fresh tmpfs over ``folder`` holding only ``carried`` (bound from the old tree; all
    read-only but ``home``); whether ``home`` was carried."""
    _tmpfs(stage, size, mode)
    placed = False
    for path in carried:
        if _inside(path, folder) and path != folder:
            target = stage + path[len(folder.rstrip("/")):]
            os.makedirs(target, exist_ok=True)
            _mount(path, target, None, MS_BIND)
            if path == home:
                _read_only(target, False, recursive=False)
                placed = True
    _mount(stage, folder, None, MS_MOVE)
    return placed


def private_world(home: str, scratch_bytes: int, seccomp: bytes | None,
                  processes: int | None = None, hide: tuple[str, ...] = ()) -> None:
    """Without bubblewrap and not root (the worker is the grader's own user): namespaces of
    its own (step 1), the whole file system read-only (so nothing the user owns can be
    changed: not its files, the engine, the graders, another process's memory); ``hide``
    (the user's home, the project, the grader's working folder: graders, reference,
    other students' notebooks) replaced by empty folders but for what Python needs to
    run; fresh capped tmpfs over ``/dev/shm`` and ``/tmp``; ``home`` (the trusted side's
    fresh folder for this submission) the one writable folder on disk; then step 3.

    ``processes``: set as RLIMIT_NPROC only now, inside the user namespace (the zygote has
    none): the kernel then counts this worker's processes, not all of the user's (a TA's
    desktop session alone has more than a sandbox may start)."""
    home = os.path.realpath(home)
    stage = os.path.join(home, ".stage")  # the machine's /tmp is no place for a shared stage
    os.makedirs(stage, 0o700, exist_ok=True)  # a probe that failed may have left it
    _own_namespaces()
    if processes is not None:
        resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
    _read_only("/", True, recursive=True)
    needed = _needed(home)
    placed = False
    for root in _hidden(list(hide), needed):
        placed = _replace(root, stage, 1 << 20, "0755", needed, home) or placed
    for folder in ("/dev/shm", "/tmp"):
        if os.path.isdir(folder) and not os.path.islink(folder):
            # a venv or checkout under /tmp stays readable, and only that
            placed = _replace(folder, stage, scratch_bytes, "1777", needed, home) or placed
    if not placed:
        _mount(home, home, None, MS_BIND)
        _read_only(home, False, recursive=False)
    os.rmdir(stage)
    os.chdir(home)
    confine(seccomp)


def confine(seccomp: bytes | None) -> None:
    """Drop every capability, forbid gaining any, install the seccomp program."""
    for cap in range(64):
        if _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() == 22:
            break  # EINVAL: past the last capability this kernel knows
    header = struct.pack("Ii", 0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    _check(_libc.capset(ctypes.c_char_p(header), ctypes.c_char_p(bytes(24))), "capset")
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    if seccomp:
        program = ctypes.create_string_buffer(seccomp, len(seccomp))
        fprog = struct.pack("HxxxxxxP", len(seccomp) // 8, ctypes.addressof(program))
        _check(_libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.c_char_p(fprog), 0, 0),
               "seccomp")


def probe(home: str, scratch_bytes: int, seccomp: bytes | None,
          world: Any = fresh_world) -> str | None:
    """None if ``world`` (``fresh_world``) works here (tried in a throwaway child), else why not."""
    read, write = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(read)
        try:
            world(home, scratch_bytes, seccomp)
            os.write(write, b"ok")
        except BaseException as exc:  # noqa: BLE001 - report anything, in the child
            os.write(write, str(exc).encode()[:300] or b"failed")
        os._exit(0)
    os.close(write)
    said = b""
    while chunk := os.read(read, 512):
        said += chunk
    os.close(read)
    os.waitpid(child, 0)
    return None if said == b"ok" else said.decode(errors="replace") or "it crashed"
