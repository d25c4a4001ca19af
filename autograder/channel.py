"""The trusted end of the pipes to a sandbox: framed messages (``protocol``) with deadlines.

Every read and write has a deadline and can also end early when a watched
process exits (a pidfd becomes readable). Frames longer than the cap are
refused before they are read; payloads are parsed by ``protocol`` only.
"""

from __future__ import annotations

import contextlib
import os
import select
import time
from typing import Any

from . import protocol


class ChannelTimeout(Exception):
    """The deadline passed before the other side answered."""


class ChannelClosed(Exception):
    """The other side is gone (EOF, broken pipe, or the watched process exited)."""


class ChannelBroken(Exception):
    """The other side broke the protocol (oversized or malformed frame)."""


class Channel:
    def __init__(self, request_w: int, reply_r: int, reply_cap: int) -> None:
        self.request_w = request_w
        self.reply_r = reply_r
        self.reply_cap = reply_cap

    def send(self, message: dict[str, Any], deadline: float, watch: int | None = None) -> None:
        payload = protocol.dumps(message)
        view = memoryview(protocol.HEADER.pack(len(payload)) + payload)
        while view:
            _wait(self.request_w, deadline, watch, write=True)
            try:
                view = view[os.write(self.request_w, view[: 1 << 16]):]
            except OSError:
                raise ChannelClosed("the sandbox stopped reading") from None

    def receive(self, deadline: float, watch: int | None = None) -> dict[str, Any]:
        """One frame, or ChannelTimeout / ChannelClosed / ChannelBroken."""
        (size,) = protocol.HEADER.unpack(self._read_exact(protocol.HEADER.size, deadline, watch))
        if size > self.reply_cap:
            raise ChannelBroken(f"a reply of {size} bytes exceeds the {self.reply_cap}-byte limit")
        payload = self._read_exact(size, deadline + 1.0, watch)
        try:
            return protocol.parse_message(payload)
        except protocol.ProtocolError as exc:
            raise ChannelBroken(f"the reply broke the protocol: {exc}") from None

    def _read_exact(self, size: int, deadline: float, watch: int | None) -> bytes:
        chunks, remaining = [], size
        while remaining:
            _wait(self.reply_r, deadline, watch)
            chunk = os.read(self.reply_r, min(remaining, 1 << 20))
            if not chunk:
                raise ChannelClosed("the sandbox closed its channel")
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

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
