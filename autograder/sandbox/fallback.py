"""Where bubblewrap is missing or cannot start: how submissions are still kept apart.

Without bubblewrap's namespaces a worker would see the machine's own ``/tmp``,
``/dev/shm`` and the rest, so what one submission leaves there could be found by
the next. Three modes, chosen once per sandbox:

* **a uid of its own** (the grader runs as root and the interpreter starts as
  another uid, as on Gradescope, whose containers forbid the namespaces
  bubblewrap needs): the zygote and its workers run as a spare uid no process
  uses; each worker gets a fresh working folder (its home, ``TMPDIR`` and
  working directory) that only that uid may enter; after each worker the zygote
  kills every process of that uid (``kill(-1)``, which reaches processes that
  left the session too) and deletes everything the uid owns in the shared
  scratch folders (``SHARED_SCRATCH``: the sticky bit lets it delete its own
  files only) and its SysV IPC; the trusted side removes the working folder.
  The seccomp filter is installed too (it needs no namespace).
* **private** (not root, and the kernel lets this user make user namespaces, as
  on most laptops): the worker is the grader's own user, so each worker builds
  its own world (``isolate.private_world``): user, mount and IPC namespaces of
  its own, the whole file system read-only, the user's home, the project and
  the grading's working folder seen empty but for what Python needs
  (``hidden_roots``), fresh capped tmpfs over ``/tmp`` and ``/dev/shm``, and a
  fresh folder of its own (home, cwd, ``TMPDIR``) the one writable place, removed
  after it; every process of its user namespace (those that left its session
  too: the seccomp filter refuses ``unshare`` and ``setns``) is killed after it,
  and it sets its process limit inside the namespace, where the kernel counts its
  processes only.
* **shared** (not root, and user namespaces refused): nothing can tell the
  worker's files from the grader's. Then a grading process grades **one
  submission only** (``claim_shared``); any further one is refused with the
  reason, so a second student never runs where the first one ran.

Kept apart in every mode: no submission sees what an earlier one wrote. Not
defended without bubblewrap (see docs/gradescope.md): the network, files
readable by the worker's uid outside what is hidden, and, with a uid of its own,
submissions graded *at the same time* by different processes (``--jobs`` > 1)
reaching each other's world-readable scratch files in ``/tmp``.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .launch import INSIDE_DIR, UID_BASE, fallback_drop

SHARED_SCRATCH = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/dev/mqueue")
UID_SPAN = 4000
FOLDER_PREFIX = "autograder-worker-"
UID_PROBE = UID_BASE

_SHARED_GRADED: list[int] = []  # pids of processes that already graded one shared submission


class SharedFallbackUsed(RuntimeError):
    """A second submission in a process where the fallback cannot keep them apart."""


def own_uid(preferred: int, base: int) -> int | None:
    """A uid no process uses to run the zygote and its workers as, or None where the
    fallback cannot drop to another uid (not root; the interpreter unreadable to it)."""
    if not fallback_drop(preferred):
        return None
    busy = running_uids()
    for offset in range(UID_SPAN):
        uid = base + (preferred - base + offset) % UID_SPAN
        if uid not in busy:
            sweep_leftovers(uid, base, busy)
            return uid
    return None


def sweep_leftovers(chosen: int, base: int, running: set[int]) -> None:
    """As root, before a sandbox of uid ``chosen`` starts: delete what ``chosen``, and every
    fallback uid with no process left, left at the top of the shared scratch folders (a
    grading process that was killed never swept after its last worker). Worker folders of
    other uids stay: only their uid may enter them, and their sandbox may be starting."""
    for folder in shared_scratch():
        with contextlib.suppress(OSError), os.scandir(folder) as entries:
            for entry in list(entries):
                with contextlib.suppress(OSError):
                    owner = entry.stat(follow_symlinks=False).st_uid
                    stale = (base <= owner < base + UID_SPAN and owner not in running
                             and not entry.name.startswith(FOLDER_PREFIX))
                    if owner != chosen and not stale:
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        remove_folder(entry.path)
                    else:
                        os.unlink(entry.path)


def _uids() -> dict[int, int]:
    """pid -> the uid that owns it, for every process."""
    found: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            with contextlib.suppress(OSError):
                found[int(name)] = os.stat(f"/proc/{name}").st_uid
    return found


PRIVATE = ("no bubblewrap and not root: each submission ran as the grader's own user in a "
           "fresh zygote-forked worker with user, mount and IPC namespaces of its own: fresh "
           "/tmp and /dev/shm, a home of its own deleted after it, the rest of the file system "
           "read-only; it could still read what that user can read")


def describe(uid: int | None) -> str:
    """What the fallback still does (a weakness note for the TA)."""
    if uid is None:
        return ("no bubblewrap and not root: one submission per grading process, with "
                "resource limits only")
    return (f"no namespaces: submissions ran one at a time as uid {uid}, whose processes "
            "and files in the shared scratch folders were removed after each")


def user_namespace(pid: int) -> str | None:
    """The user namespace ``pid`` is in (``user:[INODE]``), None if it is gone."""
    with contextlib.suppress(OSError):
        return os.readlink(f"/proc/{pid}/ns/user")
    return None


def in_user_namespace(namespace: str) -> set[int]:
    """Every process in ``namespace``: a private-mode worker and all it started, escapees
    from its session included (its seccomp filter refuses ``unshare`` and ``setns``, so
    none of them can leave it)."""
    return {pid for pid in _uids() if user_namespace(pid) == namespace}


def kill_user_namespace(namespace: str) -> None:
    for pid in in_user_namespace(namespace):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def in_session(session: int) -> set[int]:
    """Every process in session ``session`` (found by number: its leader may be gone)."""
    found = set()
    for pid in _uids():
        with contextlib.suppress(OSError, IndexError), open(f"/proc/{pid}/stat") as handle:
            if int(handle.read().rsplit(")", 1)[1].split()[3]) == session:
                found.add(pid)
    return found


def kill_and_wait(pids: set[int], seconds: float = 5.0) -> None:
    """SIGKILL ``pids`` and wait (at most ``seconds``) until each is gone or a zombie."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + seconds
    while pids and time.monotonic() < deadline:
        pids = {pid for pid in pids if _running(pid)}
        time.sleep(0.005)


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def describe_shared(private: bool, problem: object) -> str:
    """The weakness note for a sandbox not as root, once its zygote said which mode it has."""
    if private:
        return PRIVATE
    return f"{describe(None)} (user namespaces refused: {str(problem)[:200]})"


def running_uids() -> set[int]:
    return set(_uids().values())


def processes_of(uid: int) -> set[int]:
    return {pid for pid, owner in _uids().items() if owner == uid}


def shared_scratch() -> list[str]:
    """The machine's world-writable scratch folders that exist here, sticky ones only (where
    a uid may delete its own files and nobody else's)."""
    found = []
    for folder in SHARED_SCRATCH:
        try:
            mode = os.stat(folder).st_mode
        except OSError:
            continue
        if stat.S_ISDIR(mode) and mode & stat.S_IWOTH and mode & stat.S_ISVTX:
            found.append(folder)
    return found


def worker_folder(public_files: list[Path], uid: int | None) -> str:
    """A fresh working folder for one worker, with copies of the public files; with a uid
    of its own, that uid owns it and nobody else may enter (mode 0700)."""
    folder = tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{os.getpid()}-")
    for path in public_files:
        shutil.copy(path, folder)
    os.mkdir(os.path.join(folder, "tmp"))
    if uid is None:
        os.chmod(folder, 0o700)
        return folder
    for name in (*os.listdir(folder), ""):
        os.chown(os.path.join(folder, name), uid, uid)
    os.chmod(folder, 0o700)
    return folder


PROBE = """
import sys, tempfile, shutil
sys.path.insert(0, sys.argv[1])
import isolate
folder = tempfile.mkdtemp()
try:
    print(isolate.probe(folder, 1 << 20, None, isolate.private_world) or "ok")
finally:
    shutil.rmtree(folder, ignore_errors=True)
"""


def apart_problem() -> str | None:
    """Why this process, without bubblewrap, could not keep submissions apart (then it grades
    one only), or None: as root (a uid of its own) or where ``isolate.private_world``
    works here (tried in a throwaway process, as the zygote tries it)."""
    if os.geteuid() == 0 and fallback_drop(UID_PROBE):
        return None
    try:
        tried = subprocess.run([sys.executable, "-E", "-s", "-c", PROBE, str(INSIDE_DIR)],
                               capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"not root, and the namespace probe could not run ({exc})"
    said = tried.stdout.strip() or tried.stderr.strip()[-200:]
    return None if said == "ok" else f"not root, and user namespaces are refused ({said})"


def hidden_roots() -> list[str]:
    """Not root: the folders a worker sees empty (``isolate.private_world``), but for what
    Python needs: this user's home, the project (graders, reference solutions) and the
    grading's working folder (submissions, results)."""
    project = os.environ.get("AUTOGRADER_PROJECT", "")
    return [str(Path.home()), str(Path(__file__).resolve().parents[2]), os.getcwd(), project]


def uncapped_processes(prlimit: list[str]) -> list[str]:
    """``prlimit``'s command with the process limit as high as this user may set it: not root,
    RLIMIT_NPROC counts all the user's processes, so each worker sets its own (see
    ``isolate.private_world``)."""
    most = resource.getrlimit(resource.RLIMIT_NPROC)[1]
    value = "unlimited" if most == resource.RLIM_INFINITY else str(most)
    return [f"--nproc={value}" if arg.startswith("--nproc=") else arg for arg in prlimit]


def sweep_dead_folders(scratch: str | None = None) -> None:
    """Not root: delete this user's worker folders left by grading processes that died
    without closing their sandbox (SIGKILL, SIGTERM skip ``close``); the folder's name
    carries its process's pid (``worker_folder``)."""
    scratch = scratch or tempfile.gettempdir()
    with contextlib.suppress(OSError), os.scandir(scratch) as entries:
        for entry in list(entries):
            owner = entry.name[len(FOLDER_PREFIX):].split("-", 1)[0]
            with contextlib.suppress(OSError, ValueError):
                if (entry.name.startswith(FOLDER_PREFIX) and owner.isdigit()
                        and entry.stat(follow_symlinks=False).st_uid == os.getuid()
                        and entry.is_dir(follow_symlinks=False)
                        and not os.path.exists(f"/proc/{int(owner)}")):
                    remove_folder(entry.path)


def claim_shared() -> None:
    """Record that this process grades its one shared-mode submission; refuse a second."""
    if os.getpid() in _SHARED_GRADED:
        raise SharedFallbackUsed(
            "without bubblewrap, not as root, and with user namespaces refused by the kernel, "
            "the grader cannot keep one submission's files from the next, so a grading process "
            "grades one submission only; install bubblewrap, allow unprivileged user "
            "namespaces, or grade as root (each submission then runs as a uid of its own)")
    _SHARED_GRADED.append(os.getpid())


def remove_folder(path: str) -> None:
    """Delete a fallback worker folder, opening up what the worker made unreadable inside
    it; never touches ``path``'s parent (``/tmp`` itself), and a folder already gone (the
    zygote's sweep removes what its uid owns) is fine."""
    top = os.path.abspath(path)

    def opened_up(function: Any, failed: str, _exc: Any) -> None:
        parent = os.path.dirname(os.path.abspath(failed))
        if not (parent == top or parent.startswith(top + os.sep)):
            return  # ``path`` itself failed: its parent is not ours to open up
        with contextlib.suppress(OSError):
            os.chmod(parent, 0o700)
            if os.path.isdir(failed) and not os.path.islink(failed):
                os.chmod(failed, 0o700)
                shutil.rmtree(failed, onerror=opened_up)  # deeper locked folders too
            else:
                function(failed)

    if os.path.lexists(top):
        shutil.rmtree(top, onerror=opened_up)
