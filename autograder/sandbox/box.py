"""Start, talk to and kill the confined processes that run students' code.

What may happen here: a sandbox is started inside bubblewrap (its own PID,
network, IPC and UTS namespaces; a read-only view of the system and the
Python installation only; a small in-memory home with the assignment's public
files; an unprivileged uid of its own; a seccomp filter and a cgroup), with
resource limits set by ``prlimit``. Its first process is a *zygote*: a warm
interpreter (numpy, IPython, matplotlib imported) that runs no student code
and forks one fresh ``Worker`` per submission. Between two submissions the
zygote kills every other process in the sandbox and empties its scratch
space, and the trusted side checks that only the zygote is left before the
next fork. Every wait has a deadline; past it the worker gets SIGINT
(Jupyter's interrupt), then, after a grace period, SIGKILL.

The handle on one worker (its requests and their deadlines) is
``worker_handle.Worker``; the one warm sandbox a grading process keeps is
``warm_sandboxes.worker_for``.

What may not happen here: reading anything from the worker other than
length-capped protocol frames (parsed by ``protocol``, never unpickled), or
trusting a reply beyond "this is what the worker claims".

Where bubblewrap is missing or cannot start, the worker runs as a plain
process with the same limits and still apart from other submissions (see
``fallback``), and ``warning`` says what is lost.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from . import fallback
from .channel import (
    Channel,
    ChannelBroken,
    ChannelClosed,
    ChannelTimeout,
    read_child_pid,
    wide_pipe,
)
from .confine import Cgroup, cgroup_name, seccomp_fd
from .fonts import font_flags
from .launch import (
    INSIDE_DIR,
    SANDBOX_HOME,
    SANDBOX_LIB,
    SERIAL,
    UID_BASE,
    Limits,
    bind_flags,
    bubblewrap_problem,
    describe_exit,
    exited,
    namespace_flags,
    prlimit,
    same_namespace,
    same_session,
    setpriv,
    worker_env,
)
from .worker_handle import Worker, WorkerGone


class Sandbox:
    """One confined zygote; ``spawn()`` forks a fresh worker for one submission."""

    def __init__(self, public_files: list[Path], limits: Limits, uid: int | None = None, *,
                 real_otter: bool = False, common_cells: tuple[str, ...] = (),
                 preload: tuple[str, ...] = ()) -> None:
        """``preload``: module names the zygote imports and warms (``inside/preload.py``)."""
        self.limits = limits
        self.public_files = list(public_files)
        self.warning = bubblewrap_problem()
        self.weaknesses: list[str] = [self.warning] if self.warning else []
        self._tempdir: str | None = None
        self._own_uid: int | None = None  # without bubblewrap (``fallback``)
        self._private = False  # without bubblewrap, not root: workers in namespaces of their own
        self._worker_userns: str | None = None
        self._closed = False
        self._pidfd: int | None = None
        self.worker: Worker | None = None
        self._released: Worker | None = None  # killed, not yet cleaned up after (``release``)
        self._next_id = 1
        self._sink = bytearray()
        self._sink_dropped = 0
        self._worker_cgroup: Cgroup | None = None
        self._cgroup = Cgroup.create(cgroup_name(next(SERIAL)),
                                     limits.memory_bytes, limits.processes)
        if self._cgroup is None:
            self.weaknesses.append("no cgroup memory/process limit (needs root and a writable "
                                   "cgroup file system); rlimits only")
        request_r, request_w = wide_pipe()
        reply_r, reply_w = wide_pipe()
        output_r, output_w = os.pipe()
        info_r, info_w = os.pipe()
        fds = [request_r, reply_w, output_w, info_w]
        python = [sys.executable, "-E", "-s", "-B"]
        uid = uid if uid is not None else UID_BASE + os.getpid() % 4000
        options: list[str] = []
        if self.warning is None:
            # used only where the kernel refuses a fresh world per worker (see ``isolate``)
            options += ["--scratch", f"/tmp:{SANDBOX_HOME}:/dev/shm",
                        "--home", SANDBOX_HOME, "--scratch-bytes", str(limits.scratch_bytes)]
            filter_fd = seccomp_fd()
            if filter_fd is None:
                self.weaknesses.append("no seccomp filter (pyseccomp/libseccomp unavailable)")
            else:  # each worker installs it on itself once its world is built
                fds.append(filter_fd)
                options += ["--seccomp", str(filter_fd)]
            command = self._bwrap_command(info_w, uid, filter_fd)
            command += [*python, f"{SANDBOX_LIB}/worker.py"]
            cwd, env = "/", worker_env()
        else:  # see ``fallback``: a uid of its own swept after each worker, or one worker
            self._own_uid = fallback.own_uid(uid, UID_BASE)
            if self._own_uid is None:
                fallback.sweep_dead_folders()
            self.weaknesses.append(fallback.describe(self._own_uid))
            self._tempdir = fallback.worker_folder(self.public_files, self._own_uid)
            command = [*python, str(INSIDE_DIR / "worker.py")]
            if self._own_uid is not None:
                command = setpriv(self._own_uid) + command
                options += ["--scratch", ":".join(fallback.shared_scratch()), "--sweep-uid"]
            else:  # the zygote tries ``isolate.private_world`` on this folder; the workers
                # set the process limit themselves (RLIMIT_NPROC would count all the user's)
                options += ["--private", self._tempdir, "--scratch-bytes", str(limits.scratch_bytes),
                            "--processes", str(limits.processes),
                            "--hide", json.dumps(fallback.hidden_roots())]
            filter_fd = seccomp_fd(fallback=True)
            if filter_fd is None:
                self.weaknesses.append("no seccomp filter (pyseccomp/libseccomp unavailable)")
            else:
                fds.append(filter_fd)
                options += ["--seccomp", str(filter_fd)]
            cwd, env = self._tempdir, dict(worker_env(), HOME=self._tempdir,
                                           TMPDIR=f"{self._tempdir}/tmp")
        command += [str(request_r), str(reply_w), *options]
        if real_otter:
            command.append("--real-otter")
        if preload:
            command += ["--preload", ",".join(preload)]
        try:
            limited = prlimit(limits)
            if self.warning is not None and self._own_uid is None:
                limited = fallback.uncapped_processes(limited)
            self._process = subprocess.Popen(
                limited + command, stdin=subprocess.DEVNULL, stdout=output_w,
                stderr=output_w, pass_fds=fds, cwd=cwd, env=env, start_new_session=True)
        finally:
            for fd in fds:
                os.close(fd)
        self.channel = Channel(request_w, reply_r, limits.reply_bytes)
        self.pid = self._process.pid
        threading.Thread(target=self._drain, args=(output_r,), daemon=True).start()
        deadline = time.monotonic() + limits.startup_seconds
        try:
            if self.warning is None:
                self.pid = read_child_pid(info_r, deadline)
            if self._cgroup is not None:  # before any student code: nothing is forked yet
                self._cgroup.add(self.pid)
            ready = self.channel.receive(deadline)
            if ready.get("status") == "zygote-failed":
                raise ChannelBroken(str(ready.get("reason"))[:400])
            if ready.get("status") != "zygote-ready":
                raise ChannelBroken("unexpected first message")
            if self.warning is not None and self._own_uid is None:
                self._private = ready.get("private") is True
                self.weaknesses = [fallback.describe_shared(self._private, ready.get("problem"))
                                   if w == fallback.describe(None) else w for w in self.weaknesses]
            if self.warning is None and ready.get("fresh") is not True:
                self.weaknesses.append(
                    "scratch space and IPC are emptied between submissions, not recreated (the "
                    f"kernel refused a user namespace: {str(ready.get('problem'))[:200]})")
            if common_cells:  # the assignment's own text, prepared once (``transform_cache``)
                self.channel.send({"op": "remember", "id": self.next_id(),
                                   "cells": list(common_cells)}, deadline)
        except (ChannelTimeout, ChannelClosed, ChannelBroken, OSError) as exc:
            said = self._sink.decode(errors="replace").strip()[-300:]
            self.close()
            raise WorkerGone(f"the sandbox did not start: {exc}"
                             + (f" (it printed: {said})" if said else "")) from None
        finally:
            os.close(info_r)
        self._pidfd = os.pidfd_open(self.pid)

    def _bwrap_command(self, info_w: int, uid: int, filter_fd: int | None) -> list[str]:
        limits = self.limits
        # scratch first: a Python installation or venv under /tmp or home is bound on top
        command = ["bwrap", *namespace_flags(nested_userns=filter_fd is not None),
                   "--size", str(limits.scratch_bytes), "--perms", "1777", "--tmpfs", "/tmp",
                   "--size", str(limits.scratch_bytes), "--perms", "0777", "--tmpfs", SANDBOX_HOME,
                   *bind_flags(), "--perms", "0755", "--dir", SANDBOX_LIB]
        command += font_flags(worker_env()["MPLCONFIGDIR"])  # matplotlib's, built once here
        command += ["--ro-bind", str(INSIDE_DIR), SANDBOX_LIB]  # the engine's inside, as a folder
        for path in self.public_files:  # read-only, by name
            command += ["--ro-bind", str(path), f"{SANDBOX_HOME}/{path.name}"]
        command += ["--chdir", SANDBOX_HOME, "--clearenv"]
        for key, value in worker_env().items():
            command += ["--setenv", key, value]
        command += ["--info-fd", str(info_w), "--"]
        if os.geteuid() == 0:
            command += setpriv(uid)
        return command

    def _drain(self, fd: int) -> None:
        """Keep the first ``output_bytes`` printed per worker; drop the rest."""
        with contextlib.suppress(OSError):
            while chunk := os.read(fd, 65536):
                room = self.limits.output_bytes - len(self._sink)
                if room > 0:
                    self._sink += chunk[:room]
                self._sink_dropped += max(0, len(chunk) - max(room, 0))
        os.close(fd)

    @property
    def output(self) -> bytes:
        """What the current worker printed (its first ``output_bytes``)."""
        return bytes(self._sink)

    def next_id(self) -> int:
        self._next_id += 1
        return self._next_id

    @property
    def alive(self) -> bool:
        return (not self._closed and self._pidfd is not None and self._process.poll() is None
                and not exited(self._pidfd))

    # ------------------------------------------------------------------ workers

    def spawn(self) -> Worker:
        """Fork a fresh worker from the zygote (the previous one must be closed or released)."""
        if self.worker is not None:
            raise RuntimeError("the previous worker of this sandbox is still open")
        if self._released is not None:
            self._released.close()  # ``recycle``: only the zygote is left, or all is closed
            if self._closed:
                raise WorkerGone("the sandbox could not clean up after the previous worker")
        if self.warning is not None and self._own_uid is None and not self._private:
            try:
                fallback.claim_shared()
            except fallback.SharedFallbackUsed as exc:
                self.close()
                raise WorkerGone(str(exc)) from None
        self._sink.clear()
        self._sink_dropped = 0
        request_id = self.next_id()
        deadline = time.monotonic() + self.limits.startup_seconds
        try:
            self.channel.send({"op": "fork", "id": request_id, "home": self._tempdir}, deadline,
                              self._pidfd)
            ready = self.channel.receive(deadline, self._pidfd)
            others = self.members() - {self.pid}
            if ready.get("id") != request_id or ready.get("status") != "ready" or len(others) != 1:
                refused = ready.get("status") in ("isolation-failed", "fork-refused")
                raise ChannelBroken(f"the zygote did not fork a worker ({ready.get('reason')})"
                                    if refused else "the zygote did not fork a worker")
            pid = others.pop()
            self._worker_cgroup = self._own_cgroup(pid)
            if self._private:  # ready: it is in its namespaces (``isolate.private_world``)
                self._worker_userns = fallback.user_namespace(pid)
                if self._worker_userns in (None, fallback.user_namespace(os.getpid())):
                    raise ChannelBroken("the worker is not in a user namespace of its own")
        except (ChannelTimeout, ChannelClosed, ChannelBroken, OSError) as exc:
            self.close()
            raise WorkerGone(f"the sandbox could not start a worker: {exc}") from None
        self.worker = Worker(self, pid)
        return self.worker

    def _own_cgroup(self, pid: int) -> Cgroup | None:
        """A cgroup of the worker's own, with the sandbox's limits, entered before it runs
        any student code: what it charges (kernel memory, inodes, pages) is never
        charged to the next worker, and goes when the cgroup is removed."""
        if self._cgroup is None:
            return None
        cgroup = Cgroup.create(cgroup_name(next(SERIAL)),
                               self.limits.memory_bytes, self.limits.processes)
        if cgroup is None:
            raise OSError("could not create the worker's cgroup")
        try:
            cgroup.add(pid)
        except OSError:
            cgroup.remove()
            raise
        return cgroup

    def members(self) -> set[int]:
        """Host pids of every process in this sandbox (the zygote included)."""
        if self._cgroup is not None:
            worker = self._worker_cgroup.pids() if self._worker_cgroup is not None else set()
            return self._cgroup.pids() | worker
        if self.warning is None:
            return same_namespace(self.pid)
        if self._worker_userns is not None:  # escapees from the session included
            return same_session(self.pid) | fallback.in_user_namespace(self._worker_userns)
        return same_session(self.pid)

    def release(self, worker: Worker) -> bool:
        """Kill ``worker``, this sandbox's current one, now and ``recycle`` it before the next
        ``spawn`` (``Worker.release``); False, and nothing done, for any other worker."""
        if self.worker is not worker:
            return False
        worker.signal(signal.SIGKILL)
        self.worker = None
        self._released = worker
        return True

    def recycle(self, worker: Worker) -> str:
        """Kill ``worker``, let the zygote clean up, check it is alone; say how the worker ended.

        Any doubt (a junk frame, a process left, no answer) closes the whole
        sandbox: the next ``spawn`` then needs a new one.
        """
        worker.signal(signal.SIGKILL)
        self.worker = None
        self._released = None
        deadline = time.monotonic() + self.limits.startup_seconds
        ended = "the process running the notebook was killed"
        try:
            if not select.select([worker.pidfd], [], [], max(0.0, deadline - time.monotonic()))[0]:
                raise ChannelTimeout("the worker did not die")  # a pidfd is readable once it has
            while self.members() - {self.pid}:  # the zygote kills the rest once the worker died
                if self._worker_userns is not None:  # what left the session: ours to kill
                    fallback.kill_user_namespace(self._worker_userns)
                if time.monotonic() > deadline:
                    raise ChannelTimeout("processes of the submission did not die")
                time.sleep(0.002)
            # only the zygote is left to read this token, so nobody can answer in its place
            token = secrets.token_hex(16)
            self.channel.send({"op": "cleanup", "id": self.next_id(), "token": token},
                              deadline, self._pidfd)
            while True:
                reply = self.channel.receive(deadline, self._pidfd)
                if reply.get("token") == token:
                    break
            ended = describe_exit(reply.get("child"))
            self._worker_userns = None
            self._drop_worker_cgroup()
            if self._tempdir is not None:
                fallback.remove_folder(self._tempdir)
                self._tempdir = fallback.worker_folder(self.public_files, self._own_uid)
        except (ChannelTimeout, ChannelClosed, ChannelBroken, OSError):
            self.close()
        return ended

    # ------------------------------------------------------------------ life

    def close(self) -> None:
        """SIGKILL the zygote (its PID namespace dies with it), the group and the cgroup.

        Idempotent: a second call must not close file descriptor numbers that
        something else may have been given since.
        """
        if self._closed:
            return
        self._closed = True
        if self._released is not None:  # dies with the zygote
            self._released.ended = self._released.ended or "the sandbox was closed"
            with contextlib.suppress(OSError):
                os.close(self._released.pidfd)
            self._released = None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._process.pid, signal.SIGKILL)
        if self._cgroup is not None:
            self._cgroup.remove()
        self._drop_worker_cgroup()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(timeout=5)
        if self.warning is not None:  # no PID namespace: kill what is left of the session
            left = fallback.in_session(self._process.pid)  # its id: the zygote's, now reaped
            if self._own_uid is not None:  # and of the sandbox's own uid
                left |= fallback.processes_of(self._own_uid)
            if self._worker_userns is not None:  # and of the worker's user namespace
                left |= fallback.in_user_namespace(self._worker_userns)
            fallback.kill_and_wait(left)
        self.channel.close()
        if self._pidfd is not None:
            with contextlib.suppress(OSError):
                os.close(self._pidfd)
            self._pidfd = None
        if self._tempdir:
            fallback.remove_folder(self._tempdir)
            self._tempdir = None

    def _drop_worker_cgroup(self) -> None:
        if self._worker_cgroup is not None:
            self._worker_cgroup.remove()
            self._worker_cgroup = None
