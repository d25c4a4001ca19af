"""PyTorch values on the wire (``torch_wire`` through ``protocol``): data only, both ways."""

from __future__ import annotations

import collections
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from autograder.inside import protocol
from autograder.inside.protocol import ModuleData, ProtocolError, Unsupported, decode, encode
from autograder.sandbox.launch import INSIDE_DIR

torch = pytest.importorskip("torch")


def roundtrip(value):
    return decode(protocol.parse_message(protocol.dumps({"v": encode(value)}))["v"])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.int64,
                                   torch.int32, torch.int16, torch.int8, torch.uint8, torch.bool])
def test_tensors_of_each_whitelisted_dtype_roundtrip(dtype):
    """Shape, dtype and values come back, as a fresh plain torch.Tensor."""
    tensor = (torch.arange(12).reshape(3, 4) % 3).to(dtype)
    back = roundtrip(tensor)
    assert type(back) is torch.Tensor and back.dtype == dtype and back.shape == tensor.shape
    assert torch.equal(back, tensor)
    back.view(-1)[0] = 1  # a copy of its own: the original is unchanged
    assert back.data_ptr() != tensor.data_ptr()


def test_requires_grad_parameters_and_views_cross_as_plain_tensors():
    """requires_grad travels; a Parameter, a transposed view, a negated view become plain
    detached-then-rebuilt leaf tensors with the same values."""
    parameter = torch.nn.Parameter(torch.randn(2, 3))
    view = torch.randn(3, 2).t()
    negated = torch._neg_view(torch.ones(2))
    back = roundtrip([parameter, view, negated, torch.zeros(0, 5), torch.tensor(2.5)])
    assert all(type(t) is torch.Tensor for t in back)
    assert back[0].requires_grad and back[0].is_leaf and torch.equal(back[0], parameter.detach())
    assert not back[1].requires_grad and torch.equal(back[1], view)
    assert torch.equal(back[2], -torch.ones(2))
    assert back[3].shape == (0, 5) and back[4].shape == () and float(back[4]) == 2.5


def test_tensors_nested_and_state_dicts():
    """Tensors inside tuples, lists and dicts; an OrderedDict state_dict is a plain dict in order."""
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    state = model.state_dict()
    assert type(state) is collections.OrderedDict
    back = roundtrip({"state": state, "pair": (torch.ones(1), [torch.zeros(2)])})
    assert type(back["state"]) is dict and list(back["state"]) == list(state)
    assert all(torch.equal(back["state"][k], v) for k, v in state.items())
    assert back["pair"][1][0].shape == (2,)


@pytest.mark.parametrize("make, name", [
    (lambda: torch.zeros(2, dtype=torch.complex64), "tensor[complex64]"),
    (lambda: torch.zeros(2, dtype=torch.bfloat16), "tensor[bfloat16]"),
    (lambda: torch.zeros(2).to_sparse(), "tensor (torch.sparse_coo, cpu)"),
    (lambda: torch.zeros(2, device="meta"), "tensor (torch.strided, meta)"),
], ids=["complex", "bfloat16", "sparse", "meta"])
def test_other_tensors_are_unsupported(make, name):
    assert roundtrip(make()) == Unsupported(name)


def test_a_tensor_subclass_is_not_a_tensor():
    """Exact types only: a subclass (which could override anything) stays behind."""
    class Sneaky(torch.Tensor):
        pass

    assert type(roundtrip(torch.ones(2).as_subclass(Sneaky))) is Unsupported


def test_modules_cross_as_module_data():
    """A module becomes ModuleData: names, shapes, state_dict tensors, submodules; never the object."""
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = torch.nn.Conv2d(1, 8, 3, padding=1)
            self.fc = torch.nn.Linear(8, 10)
            self.register_buffer("steps", torch.zeros((), dtype=torch.int64))

    net = Net().eval()
    back = roundtrip(net)
    assert type(back) is ModuleData and back.class_name.endswith("Net") and not back.training
    assert back.parameters == {"conv1.weight": (8, 1, 3, 3), "conv1.bias": (8,),
                               "fc.weight": (10, 8), "fc.bias": (10,)}
    assert back.n_parameters == sum(p.numel() for p in net.parameters())
    assert list(back.state_dict) == list(net.state_dict())
    assert torch.equal(back.state_dict["conv1.weight"], net.conv1.weight.detach())
    assert back.children == [("conv1", "Conv2d"), ("fc", "Linear")]
    assert "kernel_size=(3, 3)" in back.modules[0][2]


def test_a_module_whose_methods_raise_is_unsupported():
    class Broken(torch.nn.Module):
        def state_dict(self, *args, **kwargs):
            raise RuntimeError("no")

    back = roundtrip(Broken())
    assert type(back) is Unsupported and back.type_name.endswith("Broken (RuntimeError)")


def frame(obj: dict, blob: bytes = b"") -> bytes:
    text = json.dumps({"v": obj}).encode()
    return text + b"\0" + blob if blob else text


@pytest.mark.parametrize("data, blob, message", [
    ({"$t": "tensor", "dtype": "object", "shape": [1], "grad": False, "at": [0, 8]}, bytes(8),
     "tensor dtype"),
    ({"$t": "tensor", "dtype": "float32", "shape": [3], "grad": False, "at": [0, 8]}, bytes(8),
     "does not match its shape"),
    ({"$t": "tensor", "dtype": "int64", "shape": [1], "grad": True, "at": [0, 8]}, bytes(8),
     "requires_grad"),
    ({"$t": "tensor", "dtype": "float64", "shape": [-1], "grad": False, "at": [0, 8]}, bytes(8),
     "shape"),
    ({"$t": "tensor", "dtype": "float64", "shape": [1], "grad": False, "at": [4, 8]}, bytes(8),
     "outside the message"),
    ({"$t": "tensor", "dtype": "float64", "shape": [1], "grad": False}, b"", "data missing"),
    ({"$t": "module", "class": "M", "training": True, "params": [["w", [2]]], "modules": [],
      "state": {"$t": "dict", "k": ["w"], "v": ["not a tensor"]}}, b"", "only tensors"),
    ({"$t": "module", "class": "M", "training": "yes", "params": [], "modules": [],
      "state": {"$t": "dict", "k": [], "v": []}}, b"", "bad module"),
], ids=["dtype", "size", "grad-int", "shape", "span", "no-data", "state", "training"])
def test_forged_tensors_and_modules_are_refused(data, blob, message):
    with pytest.raises(ProtocolError, match=message):
        decode(protocol.parse_message(frame(data, blob))["v"])


def test_the_wire_never_imports_torch():
    """In a process that did not import torch (the lean zygote), encoding anything, even an
    object dressed up as a tensor, never imports it; such an object is unsupported."""
    code = textwrap.dedent("""
        import sys, types
        import numpy as np
        import protocol
        Tensor = types.new_class("Tensor")
        Tensor.__module__ = "torch"
        value = protocol.encode([np.ones(2), Tensor(), {"a": 1}])
        assert value[1] == {"$t": "unsupported", "type": "Tensor"}, value
        assert "torch" not in sys.modules
        print("ok")
    """)
    result = subprocess.run([sys.executable, "-c", code], cwd=INSIDE_DIR, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.stdout.strip() == "ok", result.stderr


def test_a_shape_is_a_tuple():
    back = roundtrip(torch.zeros(2, 3).shape)
    assert back == (2, 3) and type(back) is tuple


def test_arrays_are_unchanged_by_the_torch_hook():
    back = roundtrip([np.arange(3.0), torch.arange(3.0)])
    assert type(back[0]) is np.ndarray and type(back[1]) is torch.Tensor
