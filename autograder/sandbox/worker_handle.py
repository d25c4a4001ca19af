"""The trusted side's handle on one worker: requests with deadlines, and its end.

A ``Worker`` is one submission's process, forked by a ``Sandbox``'s zygote. Every
request has a deadline; past it the worker gets SIGINT (Jupyter's interrupt), then,
after the limits' grace period, SIGKILL. Replies are length-capped protocol frames
read through the sandbox's ``Channel``; nothing from the worker is trusted beyond
"this is what the worker claims".
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable
from typing import Any, Protocol

from .channel import Channel, ChannelBroken, ChannelClosed, ChannelTimeout
from .launch import Limits, exited


class Zygote(Protocol):
    """What a worker needs of the sandbox that forked it (``box.Sandbox``), which owns
    the channel, the request ids, the printed output and the worker's end."""

    limits: Limits
    warning: str | None
    weaknesses: list[str]
    channel: Channel

    @property
    def output(self) -> bytes: ...

    def next_id(self) -> int: ...

    def recycle(self, worker: Worker) -> str: ...

    def release(self, worker: Worker) -> bool: ...


class WorkerGone(Exception):
    """The worker died, was killed, or broke the protocol; it is dead now."""

    def __init__(self, reason: str, timed_out: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.timed_out = timed_out


class WorkerTimeout(Exception):
    """The request ran past its deadline and was interrupted; the worker lives."""


class Worker:
    """One submission's process, forked from the zygote; the only one it talks to."""

    def __init__(self, sandbox: Zygote, pid: int) -> None:
        self.sandbox = sandbox
        self.pid = pid
        self.pidfd = os.pidfd_open(pid)
        self.limits = sandbox.limits
        self.warning = sandbox.warning
        self.weaknesses = sandbox.weaknesses
        self.ended: str | None = None

    @property
    def output(self) -> bytes:
        return self.sandbox.output

    @property
    def alive(self) -> bool:
        return self.ended is None and not exited(self.pidfd)

    def signal(self, number: int) -> None:
        with contextlib.suppress(ProcessLookupError, OSError):
            signal.pidfd_send_signal(self.pidfd, number)

    def request(self, message: dict[str, Any], seconds: float,
                on_callback: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
                ) -> dict[str, Any]:
        """Send ``message``; return the reply or raise WorkerTimeout / WorkerGone.

        Past ``seconds`` the worker is interrupted (SIGINT) and given a grace
        period to answer; a worker that does not answer is killed. A ``callback``
        frame before the reply is answered with ``on_callback(frame)`` (within
        the same deadline); without ``on_callback`` it breaks the channel.
        """
        if not self.alive:
            raise WorkerGone(self.close())
        request_id = self.sandbox.next_id()
        channel = self.sandbox.channel
        deadline = time.monotonic() + seconds
        try:
            try:
                channel.send(dict(message, id=request_id), deadline, self.pidfd)
                reply = self._reply(request_id, deadline, on_callback)
            except ChannelTimeout:
                self.signal(signal.SIGINT)
                try:
                    reply = self._reply(request_id,
                                        time.monotonic() + self.limits.interrupt_grace_seconds,
                                        on_callback)
                except ChannelTimeout:
                    self.close()
                    raise WorkerGone("it did not stop when interrupted and was killed",
                                     timed_out=True) from None
                if reply.get("id") != request_id:
                    raise ChannelBroken("the worker's reply did not match the request") from None
                raise WorkerTimeout(str(seconds)) from None
        except ChannelClosed:
            raise WorkerGone(self.close()) from None
        except ChannelBroken as exc:
            self.close()
            raise WorkerGone(str(exc)) from None
        if reply.get("id") != request_id:
            self.close()
            raise WorkerGone("the worker's reply did not match the request")
        return reply

    def _reply(self, request_id: int, deadline: float,
               on_callback: Callable[[dict[str, Any]], dict[str, Any]] | None) -> dict[str, Any]:
        """The next frame that is not a callback; callbacks answered on the way."""
        channel = self.sandbox.channel
        while True:
            frame = channel.receive(deadline, self.pidfd)
            if frame.get("status") != "callback" or frame.get("id") != request_id:
                return frame
            if on_callback is None:
                raise ChannelBroken("the worker asked to call a function it was not given")
            channel.send(dict(on_callback(frame), op="callback_result", id=request_id),
                         deadline, self.pidfd)

    def close(self) -> str:
        """End this worker and clean up after it (idempotent); how it ended, for messages."""
        if self.ended is None:
            self.ended = self.sandbox.recycle(self)
            with contextlib.suppress(OSError):
                os.close(self.pidfd)
        return self.ended

    def release(self) -> None:
        """End this worker without waiting for it to die: SIGKILL now, and the sandbox
        cleans up after it (``close``, so ``recycle``) before it forks the next worker.
        For the end of a submission, when nobody asks how the worker ended: its death
        (tearing down a process forked from a large one takes milliseconds) overlaps
        with the trusted side's work on the result."""
        if self.ended is not None or not self.sandbox.release(self):
            self.close()
