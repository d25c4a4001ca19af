"""The graders' torch helpers: student-safe messages, grader mistakes as ValueError."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.inside.protocol import ModuleData, Unsupported
from autograder.toolkit.checks import GradingFailure, describe
from autograder.toolkit.tensors import (
    as_state_dict,
    as_tensor,
    expect_close,
    expect_parameters,
    load_into,
)

torch = pytest.importorskip("torch")

SHAPES = {"w": (2, 3), "b": (2,)}


def module_data(**state):
    return ModuleData("Net", False, {k: tuple(v.shape) for k, v in state.items()}, state)


def test_as_tensor_checks_type_shape_dtype_and_copies():
    value = torch.ones(2, 3)
    copy = as_tensor(value, what="`f`", shape=(2, 3), dtype=torch.float32)
    copy[0, 0] = 5
    assert value[0, 0] == 1
    with pytest.raises(GradingFailure, match=r"^`f`: expected a torch tensor of shape \(2, 3\) "
                                             r"and dtype float32, got Tensor of shape \(3, 2\)"):
        as_tensor(torch.ones(3, 2), what="`f`", shape=(2, 3), dtype=torch.float32)
    with pytest.raises(GradingFailure, match="got Tensor of shape .* and dtype float64"):
        as_tensor(torch.ones(2, 3, dtype=torch.float64), what="`f`", dtype=torch.float32)
    with pytest.raises(GradingFailure, match="got ndarray of shape"):
        as_tensor(np.ones((2, 3)), what="`f`")
    with pytest.raises(GradingFailure, match="got Unsupported type tensor"):
        as_tensor(Unsupported("tensor[complex64]"), what="`f`")


def test_expect_close_counts_wrong_entries_without_showing_values():
    expected = torch.tensor([1.0, 2.0, 3.0])
    expect_close(expected + 1e-6, expected, what="`g`")
    with pytest.raises(GradingFailure) as caught:
        expect_close(torch.tensor([1.0, 2.5, 3.0]), expected, what="`g`")
    assert str(caught.value) == ("`g`: returned values that differ from the reference "
                                 "solution in 1 of 3 entries")
    assert "2.5" not in str(caught.value)
    with pytest.raises(GradingFailure, match="NaN or inf in 1 of 3"):
        expect_close(torch.tensor([1.0, float("nan"), 3.0]), expected, what="`g`")
    with pytest.raises(GradingFailure, match="dtype float32, got .* float64"):
        expect_close(expected.double(), expected, what="`g`")
    with pytest.raises(ValueError, match="expected tensor is not finite"):
        expect_close(expected, torch.tensor([float("inf"), 0.0, 0.0]), what="`g`")


def test_expect_parameters_names_missing_and_counts_unexpected():
    data = ModuleData("Net", True, {"w": (2, 3), "extra1234": (1,)}, {})
    with pytest.raises(GradingFailure) as caught:
        expect_parameters(data, SHAPES, what="`Net`")
    assert str(caught.value) == ("`Net`: the parameters are not the expected ones "
                                 "(missing b; unexpected extra#)")
    with pytest.raises(GradingFailure, match=r"parameter w has shape \(3, 2\), expected \(2, 3\)"):
        expect_parameters(ModuleData("Net", True, {"w": (3, 2), "b": (2,)}, {}), SHAPES,
                          what="`Net`")
    expect_parameters(ModuleData("Net", True, {"w": (2, 3), "b": (2,)}, {}), SHAPES, what="`Net`")
    with pytest.raises(GradingFailure, match="expected a torch.nn.Module, got dict"):
        expect_parameters({}, SHAPES, what="`Net`")


def test_as_state_dict_checks_keys_shapes_kinds_and_finiteness():
    good = {"w": torch.ones(2, 3, dtype=torch.float64), "b": torch.zeros(2)}
    tensors = as_state_dict(module_data(**good), SHAPES, what="`train`")
    assert list(tensors) == ["w", "b"] and all(t.dtype == torch.float32 for t in tensors.values())
    with pytest.raises(GradingFailure, match=r"b should be a floating-point tensor, got Tensor"):
        as_state_dict(dict(good, b=torch.zeros(2, dtype=torch.int64)), SHAPES, what="`train`")
    with pytest.raises(GradingFailure, match="w holds NaN or inf"):
        as_state_dict(dict(good, w=torch.full((2, 3), float("inf"))), SHAPES, what="`train`")
    with pytest.raises(GradingFailure, match="expected a state_dict"):
        as_state_dict([1, 2], SHAPES, what="`train`")


def test_load_into_a_reference_model_then_compare_outputs():
    """The flow of a behaviour check: the student's weights, the grader's own model."""
    torch.manual_seed(1)
    student = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    reference = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    loaded = load_into(reference, dict(student.state_dict()), what="`train`")
    x = torch.randn(5, 4)
    assert loaded is reference and not reference.training
    assert torch.equal(reference(x), student(x))
    wrong = dict(student.state_dict())
    wrong["0.weight"] = torch.zeros(4, 3)
    with pytest.raises(GradingFailure, match=r"0.weight has shape \(4, 3\), expected \(3, 4\)"):
        load_into(reference, wrong, what="`train`")


def test_describe_names_tensors_and_modules():
    assert describe(torch.zeros(2, 1)) == "Tensor of shape (2, 1) and dtype float32"
    assert describe(ModuleData("Net2024", True, {}, {})) == "torch module Net#"
