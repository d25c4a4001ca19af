"""What the worker answers to a call, as graders see it; the functions a call passes in.

``value_of`` turns a reply into the decoded value or the ``StudentError`` a grader
reports; ``Callbacks`` stands for the trusted functions passed into one call.
Used by ``session.StudentSession``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import BadReply, MissingName, StudentError, StudentException, redact_numbers
from ..inside import protocol

MAX_CALLBACKS = 100_000  # evaluations of passed-in functions per call


class Callbacks:
    """The trusted functions passed into one call, answered when the worker asks.

    Only arguments and results cross the boundary: the worker's proxy sends the
    arguments, this side evaluates the function and replies. At most ``limit``
    evaluations per call; past that, and when the function raises, the proxy
    raises in the student's code (the message names the exception type only).
    """

    def __init__(self, limit: int) -> None:
        self.functions: list[Callable[..., Any]] = []
        self.limit, self.count = limit, 0

    def __bool__(self) -> bool:
        return bool(self.functions)

    def encode(self, value: Any) -> Any:
        if callable(value) and not isinstance(value, type) and type(value).__module__ != "numpy":
            self.functions.append(value)
            return {"$t": "callable", "fn": len(self.functions) - 1}
        return protocol.encode(value)

    def answer(self, frame: dict[str, Any]) -> dict[str, Any]:
        index, args = frame.get("fn"), frame.get("args")
        if type(index) is not int or not 0 <= index < len(self.functions) \
                or type(args) is not list:
            return {"status": "error", "message": "no such function"}
        self.count += 1
        if self.count > self.limit:
            return {"status": "error", "message": f"the function was called more than "
                                                  f"{self.limit} times in one call"}
        try:
            decoded = [protocol.decode(a) for a in args]
            with np.errstate(all="ignore"):
                value = self.functions[index](*decoded)
            return {"status": "ok", "value": protocol.encode(value)}
        except Exception as exc:  # noqa: BLE001 - student arguments may break the function
            return {"status": "error", "message": f"the function raised {type(exc).__name__}"}


def value_of(name: str, reply: dict[str, Any]) -> Any:
    status = reply.get("status")
    if status == "ok":
        try:
            return protocol.decode(reply.get("value"))
        except (protocol.ProtocolError, ValueError, TypeError, RecursionError) as exc:
            raise BadReply(f"the value returned by `{name}` could not be read: {exc}") from None
    if status == "missing":
        raise MissingName.for_name(name)
    if status == "not_callable":
        kind = redact_numbers(str_field(reply.get("type"), 80))
        raise StudentError(f"`{name}` is not a function (it is a {kind})")
    if status == "exception":
        raise StudentException(name, str_field(reply.get("ename"), 80), str_field(reply.get("evalue"), 500))
    if status == "interrupted":
        raise StudentException(name, "KeyboardInterrupt", "")
    raise BadReply(f"the notebook's process gave an unexpected answer for `{name}`")


def str_field(value: Any, cap: int) -> str:
    """A reply field that should be a string: at most ``cap`` characters, or "" if it is not."""
    return value[:cap] if isinstance(value, str) else ""
