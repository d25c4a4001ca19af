"""Graders of the engine's torch test assignment: the torch API and toolkit, end to end."""

import pytest
import torch

from autograder.toolkit.checks import GradingFailure
from autograder.toolkit.tensors import as_state_dict, expect_close, expect_parameters, load_into

question = pytest.mark.question
SHAPES = {"conv1.weight": (2, 1, 3, 3), "conv1.bias": (2,), "fc.weight": (3, 32), "fc.bias": (3,)}


def tensor(rng, *shape, grad=False):
    return torch.from_numpy(rng.standard_normal(shape)).float().requires_grad_(grad)


@question("conv", points=2)
def test_conv_values(student, reference, rng):
    x, w, b = tensor(rng, 2, 3, 7, 7), tensor(rng, 4, 3, 3, 3), tensor(rng, 4)
    expect_close(student.call("conv", x, w, b, 2, 1), reference.conv(x, w, b, 2, 1),
                 what="`conv` with stride 2 and padding 1")


@question("conv", points=2)
def test_conv_gradients(student, reference, rng):
    args = [tensor(rng, 2, 3, 5, 5, grad=True), tensor(rng, 4, 3, 3, 3, grad=True),
            tensor(rng, 4, grad=True)]
    upstream = tensor(rng, 2, 4, 5, 5)
    out, grads = student.call_backward("conv", *args, 1, 1, upstream=upstream)
    expected = reference.conv(*args, 1, 1)
    expected.backward(upstream)
    expect_close(out, expected.detach(), what="`conv`")
    for name, got, leaf in zip("xwb", grads, args, strict=False):
        expect_close(got, leaf.grad, what=f"the gradient of `conv` for {name}")


@question("net", points=3)
def test_net_structure_and_logits(student, reference, rng):
    x = torch.rand(5, 1, 4, 4, generator=torch.Generator().manual_seed(int(rng.integers(1e9))))
    run = student.run_module("Net", inputs=(x,))
    expect_parameters(run.module, SHAPES, what="`Net`")
    if run.module.n_parameters != 119:
        raise GradingFailure("`Net`: expected 119 parameters")
    model = load_into(reference.Net(), run.module, what="`Net`")
    with torch.no_grad():
        expect_close(run.output, model(x), what="`Net` in eval mode")


@question("fit", points=3)
def test_fit_by_behaviour(student, rng):
    """Graded by behaviour: the returned state_dict, in the grader's own forward pass, must
    classify the training data it was given (a learnable rule) well."""
    x = tensor(rng, 64, 1, 4, 4)
    y = x[:, 0, 0, :3].argmax(dim=1)
    state = as_state_dict(student.call("fit", x, y, budget="fit"), SHAPES, what="`fit`")
    accuracy = float((_logits(state, x).argmax(dim=1) == y).float().mean())
    if accuracy < 0.6:
        raise GradingFailure(f"`fit`: the trained network classified {accuracy:.0%} of its "
                             "training data correctly (60 % needed)")


def _logits(state, x):
    hidden = torch.relu(torch.nn.functional.conv2d(x, state["conv1.weight"], state["conv1.bias"],
                                                   padding=1))
    return hidden.flatten(1) @ state["fc.weight"].T + state["fc.bias"]
