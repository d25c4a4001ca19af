"""What the worker answers to a call, as graders see it; the functions a call passes in.

``value_of`` turns a reply into the decoded value or the ``StudentError`` a grader
reports; ``Callbacks`` stands for the trusted functions passed into one call.
Used by ``session.StudentSession``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import BadReply, MissingName, StudentError, StudentException, redact_numbers
from ..inside import protocol

MAX_CALLBACKS = 100_000  # evaluations of passed-in functions per call
MAX_CALLBACK_ARGS = 16  # arguments of one evaluation
MAX_CALLBACK_TEXT = 1000  # characters of a string argument


class Callbacks:
    """The trusted functions passed into one call, answered when the worker asks.

    Only arguments and results cross the boundary: the worker's proxy sends the
    arguments, this side evaluates the function and replies. At most ``limit``
    evaluations per call; past that, and when the function raises, the proxy
    raises in the student's code (the message names the exception type only).

    The trusted side evaluates only arguments shaped like the call's own: each one
    a number (``abs`` below 2**63 for an int), a short string, None, or an array
    (or nested list) whose shape is the shape of one of the call's own array
    arguments, at most ``MAX_CALLBACK_ARGS`` of them. So one evaluation costs what
    the grader's function costs on the arrays the grader chose (``f(w)``), never
    more: ``np.ones((8_000_000, 1, 1), bool)`` against a (3, 4) ``w`` is refused
    before the function runs (it broadcast to gigabytes in the trusted process).
    A refused call raises ``CallbackError`` in the student's code, with the reason.

    A *dependency* (``encode(function, dependency=True)``: a reference function bound
    in the notebook by ``call_given``) is called by the student's code on its own
    intermediate values (``sigmoid(w1 @ x)``), whose shapes are not the call's. Its
    arrays may have any shape within the call's own: at most as many dimensions as the
    call's arrays have, none longer than their longest dimension plus one (a bias row).
    Broadcasting keeps within that box too, so one evaluation costs at most what the
    reference costs on arrays of the call's own size, never the square of it.
    """

    def __init__(self, limit: int) -> None:
        self.functions: list[Callable[..., Any]] = []
        self.dependencies: set[int] = set()  # indexes of ``functions`` bound by call_given
        self.limit, self.count = limit, 0
        self.shapes: set[tuple[int, ...]] = set()  # of the call's own array arguments

    def __bool__(self) -> bool:
        return bool(self.functions)

    def encode(self, value: Any, dependency: bool = False) -> Any:
        if callable(value) and not isinstance(value, type) and type(value).__module__ != "numpy":
            if dependency:
                self.dependencies.add(len(self.functions))
            self.functions.append(value)
            return {"$t": "callable", "fn": len(self.functions) - 1}
        shape = _shape(value)
        if shape:
            self.shapes.add(shape)
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
        except Exception:  # noqa: BLE001 - as the function raising on them
            return {"status": "error", "message": "the function's arguments could not be read"}
        refused = self.refused(decoded, index in self.dependencies)
        if refused:
            return {"status": "error", "message": refused}
        try:
            with np.errstate(all="ignore"):
                value = self.functions[index](*decoded)
            return {"status": "ok", "value": protocol.encode(value)}
        except Exception as exc:  # noqa: BLE001 - student arguments may break the function
            return {"status": "error", "message": f"the function raised {type(exc).__name__}"}

    def refused(self, values: list[Any], dependency: bool = False) -> str:
        """Why these arguments are not evaluated, or "" (see the class's docstring)."""
        if len(values) > MAX_CALLBACK_ARGS:
            return f"the function takes at most {MAX_CALLBACK_ARGS} arguments"
        allowed = " or ".join(str(s) for s in sorted(self.shapes)) or "none"
        dims = max((len(s) for s in self.shapes), default=0)
        longest = max((n for s in self.shapes for n in s), default=0) + 1
        for position, value in enumerate(values, 1):
            if value is None or type(value) in (bool, float, complex) \
                    or (type(value) is int and abs(value) < 2 ** 63) \
                    or (type(value) is str and len(value) <= MAX_CALLBACK_TEXT) \
                    or isinstance(value, np.generic):
                continue
            shape = _shape(value)  # an array (any array type with a shape) or a nested list
            if shape == () or (shape is not None and shape in self.shapes):
                continue
            if dependency and shape is not None and len(shape) <= dims \
                    and all(n <= longest for n in shape):
                continue
            if dependency:
                return (f"argument {position} of the function is {got_of(value, shape)}; it "
                        f"takes numbers, or arrays of at most {dims} dimensions of at most "
                        f"{longest} entries each (the size of the call's own arguments)")
            return (f"argument {position} of the function is {got_of(value, shape)}; it "
                    f"takes numbers, or "
                    f"arrays shaped like the call's own arguments (shape {allowed})")
        return ""


def got_of(value: Any, shape: tuple[int, ...] | None) -> str:
    return f"an array of shape {shape}" if shape is not None else f"a {type(value).__name__}"


def _shape(value: Any) -> tuple[int, ...] | None:
    """The shape of an array, or of a (nested) list of numbers; None when it has none."""
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple) and all(type(n) is int for n in shape):
        return shape
    if isinstance(value, (list, tuple)):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                array = np.asarray(value)
        except (ValueError, TypeError, OverflowError):
            return None
        return array.shape if array.dtype.kind in "biufc" else None
    return None


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
