"""The trusted end of the pipes to a sandbox: framed messages (``protocol``) with deadlines.

Every read and write has a deadline and can also end early when a watched
process exits (a pidfd becomes readable). Frames longer than the cap are
refused before they are read; payloads are parsed by ``protocol`` only.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import time
from typing import Any

from ..inside import protocol


class ChannelTimeout(Exception):
    """The deadline passed before the other side answered."""


class ChannelClosed(Exception):
    """The other side is gone (EOF, broken pipe, or the watched process exited)."""


class ChannelBroken(Exception):
    """The other side broke the protocol (oversized or malformed frame)."""


class Channel:
    """Both pipes are non-blocking on this side: a write or read is tried first and
    waited for (``select``, with the deadline) only when the pipe is full or empty, and
    a read takes what is there (a small frame's header and body in one system call)."""

    def __init__(self, request_w: int, reply_r: int, reply_cap: int) -> None:
        self.request_w = request_w
        self.reply_r = reply_r
        self.reply_cap = reply_cap
        self._pending = bytearray()  # read, not yet returned (at most one read beyond a frame)
        for fd in (request_w, reply_r):
            os.set_blocking(fd, False)

    def send(self, message: dict[str, Any], deadline: float, watch: int | None = None) -> None:
        if time.monotonic() >= deadline:  # as a wait would: nothing is sent past the deadline
            raise ChannelTimeout("deadline passed")
        payload = protocol.dumps(message)
        view = memoryview(protocol.HEADER.pack(len(payload)) + payload)
        while view:
            try:
                view = view[os.write(self.request_w, view):]
            except BlockingIOError:
                _wait(self.request_w, deadline, watch, write=True)
            except OSError:
                raise ChannelClosed("the sandbox stopped reading") from None

    def receive(self, deadline: float, watch: int | None = None) -> dict[str, Any]:
        """One frame, or ChannelTimeout / ChannelClosed / ChannelBroken."""
        (size,) = protocol.HEADER.unpack(self._read_exact(protocol.HEADER.size, deadline, watch))
        if size > self.reply_cap:
            # about, not exact: the size includes the request's id, which says nothing to a
            # student and differs between two gradings of one notebook (pool and Dask)
            raise ChannelBroken(f"a reply of about {size / 1e6:.1f} MB exceeds the "
                                f"{self.reply_cap}-byte limit")
        payload = self._read_exact(size, deadline + 1.0, watch)
        try:
            return protocol.parse_message(payload)
        except protocol.ProtocolError as exc:
            raise ChannelBroken(f"the reply broke the protocol: {exc}") from None

    def _read_exact(self, size: int, deadline: float, watch: int | None) -> bytes:
        pending = self._pending
        while len(pending) < size:
            try:
                chunk = os.read(self.reply_r, max(size - len(pending), 1 << 16))
            except BlockingIOError:
                _wait(self.reply_r, deadline, watch)
                continue
            except OSError:
                raise ChannelClosed("the sandbox's channel failed") from None
            if not chunk:
                raise ChannelClosed("the sandbox closed its channel")
            pending += chunk
        if len(pending) == size:  # the usual case: nothing read beyond this frame
            data = bytes(pending)
            pending.clear()
            return data
        data = bytes(pending[:size])
        del pending[:size]
        return data

    def close(self) -> None:
        """Close both pipes once; later calls do nothing."""
        for fd in (self.request_w, self.reply_r):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.request_w = self.reply_r = -1


def _wait(fd: int, deadline: float, watch: int | None, write: bool = False) -> None:
    """Until ``fd`` is ready; ChannelClosed first if the watched pidfd says its process ended."""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ChannelTimeout("deadline passed")
        watched = [watch] if watch is not None else []
        readable, writable, _ = select.select([*watched] + ([] if write else [fd]),
                                              [fd] if write else [], [], remaining)
        if (fd in writable) or (not write and fd in readable):
            return
        if watch is not None and watch in readable:
            raise ChannelClosed("the process exited")


def wide_pipe(size: int = 1 << 20) -> tuple[int, int]:
    """A pipe whose buffer holds a large array in one go (1 MiB, or the system's maximum,
    instead of 64 KiB): a frame then crosses in a few writes instead of one per 64 KiB."""
    read, write = os.pipe()
    with contextlib.suppress(OSError, AttributeError):
        with open("/proc/sys/fs/pipe-max-size") as limit:
            size = min(size, int(limit.read()))
        fcntl.fcntl(write, fcntl.F_SETPIPE_SZ, size)
    return read, write



def read_child_pid(fd: int, deadline: float) -> int:
    data = b""
    while len(data) < 4096:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            raise ChannelTimeout("bubblewrap did not report the sandbox's pid")
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        data += chunk
    for text in (data, *data.split(b"\n")):
        with contextlib.suppress(ValueError, AttributeError):
            info = json.loads(text)
            if type(info.get("child-pid")) is int:
                return int(info["child-pid"])
    raise ChannelBroken("bubblewrap did not report the sandbox's pid")
