"""The wire format between the trusted grader and the worker running student code.

This module is imported on *both* sides of the trust boundary, so it depends on
the standard library and numpy only, and it never executes, imports or
unpickles anything it receives.

Framing: every message is an 8-byte big-endian length followed by that many
bytes: ASCII JSON, then, if the message holds arrays, one NUL byte and the
arrays' raw bytes one after the other (the *blob*; JSON text never contains a
raw NUL). A reader refuses a frame longer than its cap *before* reading it.

Values: JSON scalars travel as themselves; everything else is a tagged object
``{"$t": tag, ...}``. A dict's keys and values travel as two lists, so no JSON
object of a message ever has a key chosen by student code. Numpy arrays travel
as raw little-endian bytes in the blob, named by ``"at": [offset, length]``
beside their dtype and shape (no base64: encoding and parsing cost a copy, not
a pass over text); the parser checks that every span lies inside the blob, and
the decoder accepts only bool, integer, unsigned, float and complex dtypes,
checks that the byte count matches the shape, and builds a fresh, native,
C-contiguous array. PyTorch tensors and modules travel the same way, as data
(``torch_wire``: whitelisted dtypes, never pickled), and only when the code on
the sending side imported torch itself. Anything else a student's function returns becomes
``Unsupported(type_name)`` so a grader can say what it got.
"""

from __future__ import annotations

import json
import math
import os
import re
import struct
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

try:  # the package module on the trusted side, the sibling file in the sandbox
    from . import torch_wire
except ImportError:
    import torch_wire  # type: ignore[no-redef]

ModuleData = torch_wire.ModuleData

HEADER = struct.Struct(">Q")
DEFAULT_MAX_FRAME = 16 * 1024 * 1024
MAX_DEPTH = 32
MAX_ITEMS = 100_000
_NUMERIC_KINDS = frozenset("biufc")


class ProtocolError(Exception):
    """A frame or value that does not follow the protocol."""


@dataclass(frozen=True, slots=True)
class Unsupported:
    """Stands for a value that cannot cross the boundary (e.g. a custom object)."""

    type_name: str

    def __repr__(self) -> str:
        return f"<unsupported {self.type_name}>"


# --------------------------------------------------------------------------- framing


def dumps(message: dict[str, Any]) -> bytes:
    """One frame's payload: the JSON of ``message``, then the blob of its arrays' bytes."""
    blob: list[Any] = []
    size = 0

    def span(raw: Any) -> list[int]:
        nonlocal size
        if type(raw) is not memoryview:
            raise TypeError(f"{type(raw).__name__} is not part of the protocol")
        blob.append(raw)
        size += raw.nbytes
        return [size - raw.nbytes, raw.nbytes]

    text = json.dumps(message, allow_nan=True, separators=(",", ":"), default=span).encode()
    return b"".join([text, b"\0", *blob]) if blob else text


def write_frame(fd: int, message: dict[str, Any]) -> None:
    """Serialize ``message`` and write it to ``fd`` completely."""
    payload = dumps(message)
    data = HEADER.pack(len(payload)) + payload
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def read_exact(fd: int, size: int) -> bytes:
    """Read exactly ``size`` bytes or raise EOFError."""
    chunks = []
    remaining = size
    while remaining:
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            raise EOFError("channel closed")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int, max_size: int = DEFAULT_MAX_FRAME) -> dict[str, Any]:
    """Read one message; refuse frames over ``max_size`` bytes or nested too deep."""
    (size,) = HEADER.unpack(read_exact(fd, HEADER.size))
    if size > max_size:
        raise ProtocolError(f"message of {size} bytes exceeds the {max_size}-byte limit")
    return parse_message(read_exact(fd, size))


def parse_message(payload: bytes) -> dict[str, Any]:
    """Parse one message (JSON, then the blob); depth is capped before the parser recurses.

    An array's ``"at"`` span becomes ``"raw"``, a view of its bytes in the blob,
    after checking that the span lies inside it.
    """
    end = payload.find(b"\0")
    text, blob = (payload, b"") if end < 0 else (payload[:end], memoryview(payload)[end + 1:])
    limit = 2 * MAX_DEPTH + 8
    if text.count(b"[") + text.count(b"{") > limit and _max_nesting(text) > limit:  # a tagged level adds two brackets
        raise ProtocolError("message is nested too deeply")

    def arrays(obj: dict[str, Any]) -> dict[str, Any]:
        if "at" in obj and obj.get("$t") in ("ndarray", "npscalar", "tensor"):
            at = obj.pop("at")
            if (type(at) is not list or len(at) != 2 or not all(type(n) is int for n in at)
                    or at[0] < 0 or at[1] < 0 or at[0] + at[1] > len(blob)):
                raise ProtocolError("array data outside the message")
            obj["raw"] = blob[at[0]:at[0] + at[1]]
        return obj

    try:
        message = json.loads(text, object_hook=arrays)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(f"malformed message: {type(exc).__name__}") from None
    if not isinstance(message, dict):
        raise ProtocolError("message is not an object")
    return message


def _max_nesting(payload: bytes) -> int:
    """The JSON nesting depth of ``payload``, in time linear in its size.

    Strings are removed first by one left-to-right pass: a string runs to its
    closing quote or, unterminated, to the end (so no quote inside it is ever a
    new starting point; that restart made the old pattern quadratic). Depth is
    then a running sum over the brackets left, at C speed.
    """
    steps = _STEP[np.frombuffer(_STRING.sub(b"", payload), dtype=np.uint8)]
    return int(np.cumsum(steps, dtype=np.int32).max(initial=0))


_STRING = re.compile(rb'"(?:[^"\\]++|\\.|\\\Z)*+(?:"|\Z)', re.DOTALL)
_STEP = np.zeros(256, dtype=np.int8)
_STEP[list(b"[{")], _STEP[list(b"]}")] = 1, -1


# --------------------------------------------------------------------------- values


def encode(value: Any, depth: int = 0) -> Any:
    """Turn a value into JSON-compatible data; unknown objects become Unsupported.

    Exact type checks (not isinstance) so subclasses of builtins, ndarray
    subclasses and objects with ``__array__`` never pass as what they imitate.
    NumPy's own ndarray subclasses (``np.matrix``, masked arrays, memmaps) are
    values as students return them: they are converted here, on the student's
    side, to plain arrays of the same shape (a masked entry becomes NaN in a
    float array), and extended-precision dtypes (``longdouble``) to 64-bit ones;
    what crosses is still only raw bytes of a whitelisted dtype.
    """
    if depth > MAX_DEPTH:
        return {"$t": "unsupported", "type": "value nested too deeply"}
    kind = type(value)
    if value is None or kind in (bool, int, str):
        return value
    if kind is float:
        return value if math.isfinite(value) else {"$t": "float", "v": repr(value)}
    if kind is complex:
        return {"$t": "complex", "re": encode(value.real), "im": encode(value.imag)}
    if kind is np.ndarray:
        return _encode_array(value)
    if isinstance(value, np.ndarray) and _from_numpy(kind):
        return _encode_array(_plain(value))
    if isinstance(value, np.generic) and kind.__module__ == "numpy":
        if value.dtype.kind not in _NUMERIC_KINDS:
            return {"$t": "unsupported", "type": f"numpy.{kind.__name__}"}
        return {"$t": "npscalar", **_array_fields(np.asarray(value))}
    if kind in (list, tuple):
        if len(value) > MAX_ITEMS:
            return {"$t": "unsupported", "type": f"{kind.__name__} too long"}
        items = [encode(item, depth + 1) for item in value]
        return items if kind is list else {"$t": "tuple", "v": items}
    if kind is dict or kind is OrderedDict:  # a state_dict is an OrderedDict
        if len(value) > MAX_ITEMS or not all(type(key) is str for key in value):
            return {"$t": "unsupported", "type": "dict"}
        return {"$t": "dict", "k": list(value), "v": [encode(v, depth + 1) for v in value.values()]}
    torch = torch_wire.loaded_torch()  # never imported here: only if the code using it did
    if torch is not None:
        if torch_wire.is_tensor(kind, torch):
            return torch_wire.encode_tensor(value, torch)
        if kind is getattr(torch, "Size", None):  # a tensor's shape, a tuple of ints
            return encode(tuple(int(n) for n in value), depth)
        if torch_wire.is_module(value, torch):
            return torch_wire.encode_module(value, lambda v: encode(v, depth + 1))
    return {"$t": "unsupported", "type": _type_name(kind)}


def _type_name(kind: type) -> str:
    try:
        name = str(type.__getattribute__(kind, "__qualname__"))
    except Exception:  # noqa: BLE001 - a hostile metaclass may raise anything
        name = "object"
    return name[:80]


def _from_numpy(kind: type) -> bool:
    module = getattr(kind, "__module__", "")
    return isinstance(module, str) and (module == "numpy" or module.startswith("numpy."))


def _plain(array: np.ndarray) -> np.ndarray:
    """A NumPy subclass (matrix, masked array, memmap) as a plain ndarray of the same shape."""
    if isinstance(array, np.ma.MaskedArray):
        mask = np.ma.getmaskarray(array)
        data = np.ma.getdata(array)
        if mask.any() and data.dtype.kind in "fc":
            data = np.where(mask, np.nan, data)
        array = data
    return np.asarray(array).view(np.ndarray)


def _encode_array(array: np.ndarray) -> dict[str, Any]:
    if array.dtype.kind not in _NUMERIC_KINDS or array.dtype.hasobject:
        return {"$t": "unsupported", "type": f"ndarray[{array.dtype.kind}]"}
    return {"$t": "ndarray", **_array_fields(array)}


def _array_fields(array: np.ndarray) -> dict[str, Any]:
    dtype = array.dtype
    if dtype.kind in "fc" and dtype.itemsize > (8 if dtype.kind == "f" else 16):
        dtype = np.dtype(np.float64 if dtype.kind == "f" else np.complex128)  # longdouble
    little = np.array(array, dtype=dtype.newbyteorder("<"), order="C", copy=True)
    return {
        "dtype": little.dtype.str,
        "shape": list(little.shape),
        "at": little.reshape(-1).view(np.uint8).data,  # a memoryview; ``dumps`` puts it in the blob
    }


def decode(data: Any, depth: int = 0) -> Any:
    """Rebuild a value from JSON data as fresh trusted objects; raise ProtocolError."""
    if depth > MAX_DEPTH:
        raise ProtocolError("value nested too deeply")
    if data is None or type(data) in (bool, int, float, str):
        return data
    if type(data) is list:
        return [decode(item, depth + 1) for item in data]
    if type(data) is not dict:
        raise ProtocolError(f"unexpected JSON value of type {type(data).__name__}")
    tag = data.get("$t")
    if tag == "tuple":
        return tuple(decode(item, depth + 1) for item in _field(data, "v", list))
    if tag == "dict":
        keys, values = _field(data, "k", list), _field(data, "v", list)
        if len(keys) != len(values) or not all(type(k) is str for k in keys):
            raise ProtocolError("bad dict")
        return {k: decode(v, depth + 1) for k, v in zip(keys, values, strict=True)}
    if tag == "float":
        text = _field(data, "v", str)
        if text not in ("nan", "inf", "-inf"):
            raise ProtocolError("bad non-finite float")
        return float(text)
    if tag == "complex":
        return complex(_real(decode(data.get("re"), depth + 1)), _real(decode(data.get("im"), depth + 1)))
    if tag == "ndarray":
        return _decode_array(data)
    if tag == "npscalar":
        array = _decode_array(data)
        if array.shape != ():
            raise ProtocolError("numpy scalar with a shape")
        return array[()]
    if tag == "tensor":
        return torch_wire.decode_tensor(data, ProtocolError)
    if tag == "module":
        return torch_wire.decode_module(data, lambda v: decode(v, depth + 1), ProtocolError,
                                        Unsupported)
    if tag == "unsupported":
        return Unsupported(_field(data, "type", str)[:80])
    raise ProtocolError(f"unknown tag {str(tag)[:40]!r}")


def _field(data: dict[str, Any], key: str, kind: type) -> Any:
    value = data.get(key)
    if type(value) is not kind:
        raise ProtocolError(f"field {key!r} missing or not a {kind.__name__}")
    return value


def _real(value: Any) -> float:
    if type(value) not in (int, float):
        raise ProtocolError("complex part is not a number")
    return float(value)


def _decode_array(data: dict[str, Any]) -> np.ndarray:
    try:
        dtype = np.dtype(_field(data, "dtype", str))
    except (TypeError, ValueError) as exc:
        raise ProtocolError(f"bad dtype: {exc}") from None
    if dtype.kind not in _NUMERIC_KINDS or dtype.hasobject or dtype.fields is not None:
        raise ProtocolError("array dtype is not numeric")
    shape = _field(data, "shape", list)
    if len(shape) > 32 or not all(type(n) is int and n >= 0 for n in shape):
        raise ProtocolError("bad array shape")
    raw = data.get("raw")
    if type(raw) is not memoryview:
        raise ProtocolError("array data missing")
    if raw.nbytes != math.prod(shape) * dtype.itemsize:
        raise ProtocolError("array data does not match its shape")
    array = np.frombuffer(raw, dtype=dtype).reshape(tuple(shape))
    return array.astype(dtype.newbyteorder("="), copy=True, order="C")
