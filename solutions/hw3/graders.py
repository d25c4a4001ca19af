"""Hidden graders for HW3: convolutional networks in NumPy, then in PyTorch.

Points per question are in ``assignment.toml``; every test carries one
``question`` marker and the tests of a question add up to its points. Inputs are
drawn fresh from the per-test ``rng``; shapes and types are checked before values;
messages come from the toolkit and never show inputs, expected values or errors
beyond the spec's public thresholds.

* NumPy questions: cs231n's relative error against the reference, case by case
  (``credit_by_rel_error``: below 1e-7 full, below 1e-5 half), on random shapes with
  C > 1, F > 1, odd sizes, stride 1 and 2, pad 0, 1 and 2; inputs must come back
  unchanged (``student.call_seeing_args``). ``max_pool_backward`` also on ties.
* ``conv_fast``: the stated batch must finish within the manifest's ``fast`` budget
  (best of three tries: a loaded machine can delay one call, never a loop version
  by 6x) before its values count.
* ``adam``: several consecutive steps, each fed the state the student's previous
  call returned, against the reference's chain of steps.
* ``torch_conv``: float32, shape, values (rtol 1e-4, atol 1e-5), and the gradients
  of a hidden scalar ``sum(out * upstream)`` (``student.call_backward``).
* ``cnn``: parameters (names, shapes, 9,098 in all) and, in ``eval()`` mode, the
  logits on a hidden batch against the trusted ``SmallCNN`` loaded with the
  student's own weights (``student.run_module``): behaviour, never child order.
* ``train``: the returned state_dict loaded into the trusted ``SmallCNN``; held-out
  accuracy on the 200 test digits the function never receives (85 % full, 70 % half).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from autograder.errors import StudentException
from autograder.toolkit.cases import expected
from autograder.toolkit.checks import (
    GradingFailure,
    PartialCredit,
    as_array,
    as_finite_array,
    as_int,
    credit_by_rel_error,
    rel_error,
)
from autograder.toolkit.tensors import (
    as_state_dict,
    expect_close,
    expect_parameters,
    load_into,
)

question = pytest.mark.question

STRIDE_PAD = ((1, 0), (1, 1), (2, 0), (2, 1), (1, 2), (2, 2))
CNN_SHAPES = {"conv1.weight": (8, 1, 3, 3), "conv1.bias": (8,), "conv2.weight": (16, 8, 3, 3),
              "conv2.bias": (16,), "fc.weight": (10, 784), "fc.bias": (10,)}
CNN_PARAMETERS = 9098
FAST_BATCH = ((64, 1, 28, 28), (8, 1, 3, 3), 1, 1)  # x, w shapes, stride, pad (stated)
FAST_TRIES = 3


# --------------------------------------------------------------------------- cases


def conv_case(rng: np.random.Generator, stride: int, pad: int) -> tuple[np.ndarray, ...]:
    """``x, w, b``: C > 1, F > 1, odd sizes likely, and an output size that divides exactly."""
    N, C, F = int(rng.integers(1, 4)), int(rng.integers(2, 5)), int(rng.integers(2, 6))
    HH, WW = int(rng.choice([3, 3, 2, 5])), int(rng.choice([3, 3, 1, 4]))
    H_out, W_out = int(rng.integers(2, 6)), int(rng.integers(2, 6))
    H = max((H_out - 1) * stride + HH - 2 * pad, 1)  # 1 only when padding alone covers it:
    W = max((W_out - 1) * stride + WW - 2 * pad, 1)  # then make the stride divide again
    H += (H + 2 * pad - HH) % stride
    W += (W + 2 * pad - WW) % stride
    return (rng.normal(0, 1, (N, C, H, W)), rng.normal(0, 1, (F, C, HH, WW)),
            rng.normal(0, 1, F))


def conv_cases(rng: np.random.Generator) -> list[tuple[str, tuple[Any, ...]]]:
    """One case per (stride, pad) of the spec, labelled by public facts only."""
    cases = []
    for stride, pad in STRIDE_PAD:
        x, w, b = conv_case(rng, stride, pad)
        what = f"with stride={stride}, pad={pad}, x of shape {x.shape}, w of shape {w.shape}"
        cases.append((what, (x, w, b, stride, pad)))
    return cases


def out_shape(x: np.ndarray, w: np.ndarray, stride: int, pad: int) -> tuple[int, ...]:
    return (x.shape[0], w.shape[0], 1 + (x.shape[2] + 2 * pad - w.shape[2]) // stride,
            1 + (x.shape[3] + 2 * pad - w.shape[3]) // stride)


def expect_unchanged(name: str, before: tuple[Any, ...], after: tuple[Any, ...],
                     names: tuple[str, ...]) -> None:
    for arg, old, new in zip(names, before, after, strict=False):
        new = as_array(new, what=f"`{name}`: {arg} afterwards", shape=old.shape)
        if not np.array_equal(new, old):
            raise GradingFailure(f"`{name}` modified its input `{arg}`; work on a copy")


# --------------------------------------------------------------------------- conv_forward


@question("conv_forward", points=3)
def test_conv_forward_shapes(student, rng):
    """`conv_forward` returns (N, F, H', W') for every stride and padding of the spec."""
    for what, (x, w, b, stride, pad) in conv_cases(rng):
        as_array(student.call("conv_forward", x, w, b, stride, pad),
                 what=f"`conv_forward` {what}", shape=out_shape(x, w, stride, pad))


@question("conv_forward", points=9)
def test_conv_forward_values(student, reference, rng):
    """Values by relative error against the reference: strides 1 and 2, padding 0 to 2."""
    errors = []
    for what, (x, w, b, stride, pad) in conv_cases(rng):
        out = as_finite_array(student.call("conv_forward", x, w, b, stride, pad),
                              what=f"`conv_forward` {what}", shape=out_shape(x, w, stride, pad))
        errors.append(rel_error(out, expected(reference.conv_forward, x, w, b, stride, pad)))
    credit_by_rel_error(errors, what="`conv_forward`")


@question("conv_forward", points=3)
def test_conv_forward_leaves_its_inputs_alone(student, rng):
    """`x`, `w` and `b` are unchanged after `conv_forward` (with padding)."""
    x, w, b = conv_case(rng, 1, 1)
    _, after = student.call_seeing_args("conv_forward", x.copy(), w.copy(), b.copy(), 1, 1)
    expect_unchanged("conv_forward", (x, w, b), after, ("x", "w", "b"))


# --------------------------------------------------------------------------- conv_backward


def backward_case(rng: np.random.Generator, stride: int, pad: int) -> tuple[Any, ...]:
    x, w, b = conv_case(rng, stride, pad)
    return rng.normal(0, 1, out_shape(x, w, stride, pad)), x, w, b, stride, pad


def student_gradients(student, case: tuple[Any, ...], what: str) -> tuple[np.ndarray, ...]:
    value = student.call("conv_backward", *case)
    if type(value) not in (tuple, list) or len(value) != 3:
        raise GradingFailure(f"{what}: expected a tuple (dx, dw, db), got {type(value).__name__}")
    return tuple(as_finite_array(v, what=f"{what}: {name}", shape=like.shape)
                 for v, name, like in zip(value, ("dx", "dw", "db"), case[1:4], strict=True))


@question("conv_backward", points=3)
def test_conv_backward_shapes(student, rng):
    """`conv_backward` returns (dx, dw, db) shaped like (x, w, b)."""
    for stride, pad in ((1, 0), (2, 1), (1, 2)):
        student_gradients(student, backward_case(rng, stride, pad),
                          f"`conv_backward` with stride={stride}, pad={pad}")


@question("conv_backward", points=10)
def test_conv_backward_values(student, reference, rng):
    """dx, dw and db by relative error against the reference: strides 1 and 2, padding 0 to 2."""
    errors = []
    for stride, pad in STRIDE_PAD:
        case = backward_case(rng, stride, pad)
        got = student_gradients(student, case, f"`conv_backward` with stride={stride}, pad={pad}")
        want = expected(reference.conv_backward, *case)
        errors.append(max(rel_error(g, r) for g, r in zip(got, want, strict=True)))
    credit_by_rel_error(errors, what="`conv_backward`")


@question("conv_backward", points=2)
def test_conv_backward_leaves_its_inputs_alone(student, rng):
    """`dout`, `x`, `w` and `b` are unchanged after `conv_backward`."""
    case = backward_case(rng, 2, 1)
    _, after = student.call_seeing_args("conv_backward", *(a.copy() for a in case[:4]), 2, 1)
    expect_unchanged("conv_backward", case[:4], after, ("dout", "x", "w", "b"))


# --------------------------------------------------------------------------- max_pool


POOLS = ((2, 2), (2, 2), (3, 1), (2, 1))  # (size, stride): the default twice, then overlapping


def pool_case(rng: np.random.Generator, size: int, stride: int,
              ties: bool = False) -> tuple[np.ndarray, str]:
    N, C = int(rng.integers(1, 4)), int(rng.integers(2, 5))
    H = (int(rng.integers(2, 5)) - 1) * stride + size
    W = (int(rng.integers(2, 5)) - 1) * stride + size
    x = rng.integers(0, 3, (N, C, H, W)).astype(float) if ties else rng.normal(0, 1, (N, C, H, W))
    return x, f"with size={size}, stride={stride}, x of shape {x.shape}"


def pooled_shape(x: np.ndarray, size: int, stride: int) -> tuple[int, ...]:
    return (*x.shape[:2], 1 + (x.shape[2] - size) // stride, 1 + (x.shape[3] - size) // stride)


@question("max_pool", points=3)
def test_max_pool_forward(student, reference, rng):
    """`max_pool_forward`: shape, then the maximum of every window (2 x 2 and overlapping)."""
    errors = []
    for size, stride in POOLS:
        x, what = pool_case(rng, size, stride)
        out = as_finite_array(student.call("max_pool_forward", x, size, stride),
                              what=f"`max_pool_forward` {what}",
                              shape=pooled_shape(x, size, stride))
        errors.append(rel_error(out, expected(reference.max_pool_forward, x, size, stride)))
    credit_by_rel_error(errors, what="`max_pool_forward`")


def grade_pool_backward(student, reference, rng: np.random.Generator, ties: bool) -> None:
    errors = []
    for size, stride in POOLS:
        x, what = pool_case(rng, size, stride, ties)
        dout = rng.normal(0, 1, pooled_shape(x, size, stride))
        dx = as_finite_array(student.call("max_pool_backward", dout, x, size, stride),
                             what=f"`max_pool_backward` {what}" + (" (ties)" if ties else ""),
                             shape=x.shape)
        errors.append(rel_error(dx, expected(reference.max_pool_backward, dout, x, size, stride)))
    credit_by_rel_error(errors, what="`max_pool_backward`" + (" on windows with ties" * ties))


@question("max_pool", points=4)
def test_max_pool_backward(student, reference, rng):
    """`max_pool_backward` routes each window's gradient to its maximum."""
    grade_pool_backward(student, reference, rng, ties=False)


@question("max_pool", points=2)
def test_max_pool_backward_ties(student, reference, rng):
    """On windows with ties, only the first maximum (row-major) gets the gradient."""
    grade_pool_backward(student, reference, rng, ties=True)


@question("max_pool", points=1)
def test_max_pool_leaves_its_inputs_alone(student, rng):
    """`x` (and `dout`) are unchanged after max pooling forward and backward."""
    x, _ = pool_case(rng, 2, 2)
    _, after = student.call_seeing_args("max_pool_forward", x.copy(), 2, 2)
    expect_unchanged("max_pool_forward", (x,), after, ("x",))
    dout = rng.normal(0, 1, pooled_shape(x, 2, 2))
    _, after = student.call_seeing_args("max_pool_backward", dout.copy(), x.copy(), 2, 2)
    expect_unchanged("max_pool_backward", (dout, x), after, ("dout", "x"))


# --------------------------------------------------------------------------- conv_fast


def timed_fast_call(student, case: tuple[Any, ...]) -> Any:
    """The stated batch within the ``fast`` budget: best of ``FAST_TRIES`` calls."""
    for _ in range(FAST_TRIES - 1):
        try:
            return student.call("conv_forward_fast", *case, budget="fast")
        except TimeoutError:
            continue
    return student.call("conv_forward_fast", *case, budget="fast")


@question("conv_fast", points=5)
def test_conv_forward_fast(student, reference, rng):
    """The stated batch (64 x 1 x 28 x 28, 8 filters of 3 x 3) within 0.25 s; same values
    as the reference there and at every stride and padding of the spec."""
    x_shape, w_shape, stride, pad = FAST_BATCH
    x, w, b = rng.random(x_shape), rng.normal(0, 1, w_shape), rng.normal(0, 1, w_shape[0])
    out = as_finite_array(timed_fast_call(student, (x, w, b, stride, pad)),
                          what="`conv_forward_fast` on the stated batch",
                          shape=out_shape(x, w, stride, pad))
    errors = [rel_error(out, expected(reference.conv_forward, x, w, b, stride, pad))]
    for what, (x, w, b, stride, pad) in conv_cases(rng):
        out = as_finite_array(student.call("conv_forward_fast", x, w, b, stride, pad),
                              what=f"`conv_forward_fast` {what}",
                              shape=out_shape(x, w, stride, pad))
        errors.append(rel_error(out, expected(reference.conv_forward, x, w, b, stride, pad)))
    credit_by_rel_error(errors, what="`conv_forward_fast`")


# --------------------------------------------------------------------------- adam


def adam_state(value: Any, shape: tuple[int, ...], what: str) -> dict[str, Any]:
    if type(value) is not dict or not {"m", "v", "t"} <= set(value):
        raise GradingFailure(f"{what}: the state should be a dict with the keys m, v, t")
    as_array(value["m"], what=f"{what}: state['m']", shape=shape)
    as_array(value["v"], what=f"{what}: state['v']", shape=shape)
    return value


def adam_steps(student, reference, rng: np.random.Generator, shape: tuple[int, ...],
               steps: int, options: dict[str, float]) -> tuple[list[float], dict[str, Any]]:
    """``steps`` student steps, each given the student's previous state, beside the
    reference's chain; the relative error of every step's new ``w`` and the last state."""
    w_student = w_reference = rng.normal(0, 1, shape)
    state_student: Any = None
    state_reference: Any = None
    errors = []
    for step in range(1, steps + 1):
        dw = rng.normal(0, 1, shape) * rng.choice([0.01, 1.0, 10.0])
        what = f"`adam_step` at step {step} on w of shape {shape}"
        value = student.call("adam_step", w_student, dw, state_student, *options.values())
        if type(value) not in (tuple, list) or len(value) != 2:
            raise GradingFailure(f"{what}: expected a pair (new_w, new_state), "
                                 f"got {type(value).__name__}")
        w_student = as_finite_array(value[0], what=f"{what}: new_w", shape=shape)
        state_student = adam_state(value[1], shape, what)
        w_reference, state_reference = expected(reference.adam_step, w_reference, dw,
                                                state_reference, *options.values())
        errors.append(rel_error(w_student, w_reference))
    return errors, state_student


ADAM_OPTIONS = ({}, {"lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6})


@question("adam", points=6)
def test_adam_several_steps(student, reference, rng):
    """Six consecutive steps, each from the state your previous step returned, default and
    other hyperparameters, against the reference."""
    errors: list[float] = []
    for options, shape in zip(ADAM_OPTIONS, ((3, 4), (5,)), strict=True):
        errors += adam_steps(student, reference, rng, shape, 6, options)[0]
    credit_by_rel_error(errors, what="`adam_step`")


@question("adam", points=2)
def test_adam_state_counts_steps(student, reference, rng):
    """The returned state holds m and v shaped like w and t, the number of steps taken."""
    _, state = adam_steps(student, reference, rng, (2, 3), 3, {})
    if as_int(state["t"], what="`adam_step`: state['t'] after 3 steps") != 3:
        raise GradingFailure("`adam_step`: state['t'] should be 3 after three steps")


@question("adam", points=2)
def test_adam_leaves_its_inputs_alone(student, reference, rng):
    """`w`, `dw` and the arrays of `state` are unchanged after a step."""
    w, dw = rng.normal(0, 1, (3, 3)), rng.normal(0, 1, (3, 3))
    _, state = expected(reference.adam_step, w, rng.normal(0, 1, (3, 3)), None)
    m, v = state["m"].copy(), state["v"].copy()
    _, after = student.call_seeing_args("adam_step", w.copy(), dw.copy(), state)
    expect_unchanged("adam_step", (w, dw), after[:2], ("w", "dw"))
    given = after[2]
    if type(given) is not dict or "m" not in given or "v" not in given or given.get("t") != 1:
        raise GradingFailure("`adam_step` modified its input `state`; return a new dict")
    expect_unchanged("adam_step", (m, v), (given["m"], given["v"]), ("state['m']", "state['v']"))


# --------------------------------------------------------------------------- torch_conv


def torch_case(rng: np.random.Generator, stride: int, pad: int,
               grad: bool = False) -> tuple[Any, ...]:
    return (*(torch.tensor(a, dtype=torch.float32, requires_grad=grad)
              for a in conv_case(rng, stride, pad)), stride, pad)


@question("torch_conv", points=5)
def test_torch_conv_values(student, reference, rng):
    """A float32 tensor of shape (N, F, H', W') with the reference's values (rtol 1e-4)."""
    for stride, pad in STRIDE_PAD:
        case = torch_case(rng, stride, pad)
        expect_close(student.call("torch_conv", *case), reference.torch_conv(*case),
                     what=f"`torch_conv` with stride={stride}, pad={pad}, x of shape "
                          f"{tuple(case[0].shape)}")


@question("torch_conv", points=5)
def test_torch_conv_gradients(student, reference, rng):
    """Gradients of a hidden scalar function of the output reach x, w and b, and are right."""
    for stride, pad in ((1, 1), (2, 0), (2, 2)):
        case = torch_case(rng, stride, pad, grad=True)
        mine = tuple(a.detach().clone().requires_grad_() for a in case[:3])
        out = reference.torch_conv(*mine, stride, pad)
        upstream = torch.tensor(rng.normal(0, 1, tuple(out.shape)), dtype=torch.float32)
        out.backward(upstream)
        what = f"`torch_conv` with stride={stride}, pad={pad}"
        advice = "keep the computation in torch, without .detach() or NumPy"
        try:
            _, grads = student.call_backward("torch_conv", *case, upstream=upstream)
        except StudentException as exc:
            if "does not require grad" not in exc.evalue:
                raise
            raise GradingFailure(f"{what}: the output is cut off from autograd, no gradient "
                                 f"reaches x, w or b ({advice})") from None
        for name, got, want in zip(("x", "w", "b"), grads, mine, strict=False):
            if got is None:
                raise GradingFailure(f"{what}: no gradient reached `{name}` ({advice})")
            expect_close(got, want.grad, what=f"{what}: the gradient of {name}")


# --------------------------------------------------------------------------- cnn


def digits_batch(rng: np.random.Generator, n: int) -> torch.Tensor:
    return torch.tensor(rng.random((n, 1, 28, 28)), dtype=torch.float32)


@question("cnn", points=4)
def test_cnn_parameters(student, rng):
    """`SmallCNN()` has exactly conv1, conv2 and fc of the stated shapes: 9,098 parameters."""
    run = student.run_module("SmallCNN", inputs=(digits_batch(rng, 2),), mode="eval")
    expect_parameters(run.module, CNN_SHAPES, what="`SmallCNN()`")
    if run.module.n_parameters != CNN_PARAMETERS:
        raise GradingFailure(f"`SmallCNN()` has {run.module.n_parameters} parameters, "
                             f"expected {CNN_PARAMETERS}")


@question("cnn", points=6)
def test_cnn_forward(student, reference, rng):
    """In eval() mode, the logits on a hidden batch equal the reference model's with your
    weights (ReLU, pooling, flatten order, dropout off)."""
    x = digits_batch(rng, int(rng.integers(3, 9)))
    run = student.run_module("SmallCNN", inputs=(x,), mode="eval")
    what = "`SmallCNN()` in eval() mode"
    model = load_into(reference.SmallCNN(), run.module, what=f"{what}: its state_dict")
    with torch.no_grad():
        want = model(x)
    expect_close(run.output, want, what=f"{what}: the logits")


# --------------------------------------------------------------------------- train


def digits(assignment, part: str) -> tuple[torch.Tensor, torch.Tensor]:
    with np.load(assignment.public_dir / "digits.npz") as data:
        images = data[f"{part}_images"].reshape(-1, 1, 28, 28) / 255.0
        labels = data[f"{part}_labels"]
    return (torch.tensor(images, dtype=torch.float32), torch.tensor(labels, dtype=torch.int64))


@question("train", points=5)
def test_train_returns_a_state_dict(student, assignment, rng):
    """`train` returns SmallCNN's state_dict: the six stated keys and shapes, finite."""
    X, y = digits(assignment, "train")
    chosen = torch.tensor(rng.permutation(len(y))[:96])
    value = student.call("train", X[chosen], y[chosen], int(rng.integers(0, 2**31)), 1,
                         budget="train")
    as_state_dict(value, CNN_SHAPES, what="`train` (96 digits, epochs=1)")


@question("train", points=20)
def test_train_held_out_accuracy(student, reference, assignment, rng):
    """Held-out accuracy of your weights in the reference SmallCNN after `train` on the 1,597
    training digits, epochs=3, a seed chosen at grading time: 85 % full credit, 70 % half."""
    X, y = digits(assignment, "train")
    X_held, y_held = digits(assignment, "test")
    value = student.call("train", X, y, int(rng.integers(0, 2**31)), 3, budget="train")
    model = load_into(reference.SmallCNN(), value, what="`train`")
    with torch.no_grad():
        accuracy = float((model(X_held).argmax(dim=1) == y_held).float().mean())
    said = f"`train`: the trained network classified {accuracy:.0%} of held-out digits correctly"
    if accuracy >= 0.85:
        return
    if accuracy >= 0.70:
        raise PartialCredit(0.5, f"{said} (85 % for full credit; 70 % or more: half)")
    raise GradingFailure(f"{said} (70 % or more needed for credit)")
