"""PyTorch values on the wire (``protocol``'s tensors and modules), as data only.

Imported by ``protocol`` on both sides of the trust boundary. Encoding never
imports torch: a value is a tensor only when torch is *already* imported (the
student's code, or a grader, did it) and the value's type is exactly
``torch.Tensor`` or ``torch.nn.Parameter``; a module only when it is an
instance of ``torch.nn.Module``. Decoding a tensor imports torch lazily (a
tensor arrived, so the other side had it).

A tensor travels like an array: raw little-endian bytes in the frame's blob,
its dtype's *name* from a whitelist (``DTYPES``), its shape and whether it
requires grad; only dense CPU tensors of those dtypes cross, everything else
becomes ``unsupported``. Nothing is ever pickled or ``torch.load``-ed. The
decoder checks the dtype name, the shape and the byte count, copies the bytes
into a fresh tensor and sets ``requires_grad`` only on a floating dtype.

A module crosses as ``ModuleData``: its class name, training flag, parameter
names and shapes, its ``state_dict`` (a mapping of tensors), and the name,
type and ``extra_repr`` of each submodule; never the object. Every field is
the sender's claim: graders judge behaviour by loading the state_dict into
their own reference model (``autograder.toolkit.tensors``).
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

# torch dtype name -> the little-endian NumPy dtype of its bytes on the wire
DTYPES = {"float32": "<f4", "float64": "<f8", "float16": "<f2", "int64": "<i8", "int32": "<i4",
          "int16": "<i2", "int8": "|i1", "uint8": "|u1", "bool": "|b1"}
FLOATING = frozenset({"float32", "float64", "float16"})
MAX_SUBMODULES = 1000
MAX_TEXT = 200


@dataclass(frozen=True)
class ModuleData:
    """A ``torch.nn.Module`` as plain data (what a worker claims about it).

    ``parameters``: ``named_parameters()`` name -> shape; ``state_dict``: name -> tensor
    (parameters and buffers); ``modules``: ``(name, type name, extra_repr)`` for every
    submodule (``named_modules()`` without the module itself).
    """

    class_name: str
    training: bool
    parameters: dict[str, tuple[int, ...]]
    state_dict: dict[str, Any]
    modules: tuple[tuple[str, str, str], ...] = ()

    @property
    def n_parameters(self) -> int:
        """The number of parameter entries, counted here from the shapes."""
        return sum(math.prod(shape) for shape in self.parameters.values())

    @property
    def children(self) -> list[tuple[str, str]]:
        """The direct submodules: ``(name, type name)``."""
        return [(name, kind) for name, kind, _ in self.modules if "." not in name]


def loaded_torch() -> Any:
    """The torch module if this process already imported it, else None (never imports)."""
    torch = sys.modules.get("torch")
    return torch if isinstance(getattr(torch, "Tensor", None), type) else None


def is_tensor(kind: type, torch: Any) -> bool:
    nn = getattr(torch, "nn", None)
    return kind is torch.Tensor or kind is getattr(nn, "Parameter", None)


def is_module(value: Any, torch: Any) -> bool:
    base = getattr(getattr(torch, "nn", None), "Module", None)
    try:
        return isinstance(base, type) and isinstance(value, base)
    except Exception:  # noqa: BLE001 - a hostile __class__ may raise anything
        return False


def _unsupported(what: str) -> dict[str, Any]:
    return {"$t": "unsupported", "type": what[:80]}


def encode_tensor(value: Any, torch: Any) -> dict[str, Any]:
    """A dense CPU tensor of a whitelisted dtype as wire data; anything else ``unsupported``."""
    try:
        name = str(value.dtype).removeprefix("torch.")
        if value.layout is not torch.strided or value.device.type != "cpu" or value.is_quantized:
            return _unsupported(f"tensor ({value.layout}, {value.device.type})")
        if name not in DTYPES:
            return _unsupported(f"tensor[{name}]")
        array = value.detach().resolve_conj().resolve_neg().numpy()
        grad = bool(value.requires_grad)
    except Exception as exc:  # noqa: BLE001 - a tensor that cannot be read stays behind
        return _unsupported(f"tensor ({type(exc).__name__})")
    little = np.array(array, dtype=np.dtype(DTYPES[name]), order="C", copy=True)
    return {"$t": "tensor", "dtype": name, "shape": list(little.shape), "grad": grad,
            "at": little.reshape(-1).view(np.uint8).data}


def decode_tensor(data: dict[str, Any], error: type[Exception]) -> Any:
    """A fresh tensor from wire data checked field by field; ``error`` for anything wrong."""
    name = data.get("dtype")
    if type(name) is not str or name not in DTYPES:
        raise error("tensor dtype is not one of " + ", ".join(DTYPES))
    shape = data.get("shape")
    if type(shape) is not list or len(shape) > 32 or not all(type(n) is int and n >= 0
                                                             for n in shape):
        raise error("bad tensor shape")
    grad = data.get("grad")
    if type(grad) is not bool or (grad and name not in FLOATING):
        raise error("bad tensor requires_grad")
    raw = data.get("raw")
    dtype = np.dtype(DTYPES[name])
    if type(raw) is not memoryview:
        raise error("tensor data missing")
    if raw.nbytes != math.prod(shape) * dtype.itemsize:
        raise error("tensor data does not match its shape")
    try:
        import torch
    except ImportError:
        raise error("a tensor arrived but torch is not installed here") from None
    array = np.frombuffer(raw, dtype=dtype).reshape(tuple(shape))
    tensor = torch.from_numpy(array.astype(dtype.newbyteorder("="), copy=True, order="C"))
    return tensor.requires_grad_(True) if grad else tensor


def encode_module(value: Any, encode: Any) -> dict[str, Any]:
    """A module as wire data: names, shapes, its state_dict (through ``encode``), submodules."""
    try:
        parameters = [[str(n)[:MAX_TEXT], [int(d) for d in p.shape]]
                      for n, p in value.named_parameters()]
        modules: list[list[str]] = []
        for n, m in value.named_modules():
            if n and len(modules) < MAX_SUBMODULES:
                modules.append([str(n)[:MAX_TEXT], type_name(type(m)),
                                str(m.extra_repr())[:MAX_TEXT]])
        state = dict(value.state_dict())
        training = bool(value.training)
    except Exception as exc:  # noqa: BLE001 - student code: its methods may raise anything
        return _unsupported(f"{type_name(type(value))} ({type_name(type(exc))})")
    return {"$t": "module", "class": type_name(type(value)), "training": training,
            "params": parameters, "state": encode(state), "modules": modules}


def decode_module(data: dict[str, Any], decode: Any, error: type[Exception],
                  unsupported: type) -> ModuleData:
    """``ModuleData`` from wire data; state_dict values are tensors (or ``unsupported``)."""
    name, training = data.get("class"), data.get("training")
    params, modules = data.get("params"), data.get("modules")
    if type(name) is not str or type(training) is not bool:
        raise error("bad module")
    if type(params) is not list or not all(
            type(p) is list and len(p) == 2 and type(p[0]) is str and type(p[1]) is list
            and len(p[1]) <= 32 and all(type(d) is int and d >= 0 for d in p[1]) for p in params):
        raise error("bad module parameters")
    if type(modules) is not list or len(modules) > MAX_SUBMODULES or not all(
            type(m) is list and len(m) == 3 and all(type(t) is str for t in m) for m in modules):
        raise error("bad submodules")
    state = decode(data.get("state"))
    torch = loaded_torch()
    if type(state) is not dict or not all(type(v) is unsupported or (
            torch is not None and type(v) is torch.Tensor) for v in state.values()):
        raise error("a module's state_dict holds only tensors")
    return ModuleData(name[:80], training, {p[0]: tuple(p[1]) for p in params}, state,
                      tuple((m[0][:MAX_TEXT], m[1][:80], m[2][:MAX_TEXT]) for m in modules))


def type_name(kind: type) -> str:
    try:
        name = str(type.__getattribute__(kind, "__qualname__"))
    except Exception:  # noqa: BLE001 - a hostile metaclass may raise anything
        name = "object"
    return name[:80]
