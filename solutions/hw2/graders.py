"""Hidden graders for HW2: backpropagation, gradient checking and training.

Points per question are in ``assignment.toml``; every test carries one
``question`` marker and the tests of a question add up to its points. Inputs
are drawn fresh from the per-test ``rng``; shapes and types are checked before
values; messages come from ``autograder.toolkit.checks`` and never show inputs,
expected values or errors beyond the spec's public thresholds.

* ``backward`` is graded by cs231n's relative error against the reference, one
  case at a time (``credit_by_rel_error``: below 1e-7 full, below 1e-5 half),
  on tiny, odd and the lecture's sizes, and with saturated hidden units.
* ``numerical_gradient`` gets trusted functions (``student.call`` passes them
  as proxies: only arguments and values cross the sandbox): quadratics whose
  gradients are known exactly and are small next to their curvature (so a
  one-sided difference is far off), and the reference loss, where it is
  compared with the reference's own centred differences (same arithmetic).
  ``w`` must come back as it was: ``student.call_seeing_args``.
* ``train`` is graded by behaviour: held-out accuracy of the returned weights
  (the reference forward pass and argmax, i.e. HW1's ``predict``) after
  training on 1000 digits with a seed drawn here, within the manifest's
  ``train`` budget; 85 % full credit, 70 % half.
* A mistake is charged once: a failed ``backward`` / ``train`` test is run again
  with the reference ``forward`` / ``backward`` and ``sgd_step`` bound (the
  manifest's ``[dependencies]``, docs/grading-policy.md).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from autograder.toolkit.cases import draw, expected, expected_float, one_hot, weights
from autograder.toolkit.checks import (
    GradingFailure,
    PartialCredit,
    as_array,
    as_finite_array,
    as_float,
    credit_by_rel_error,
    expect_array,
    expect_finite,
    expect_float,
    rel_error,
)

question = pytest.mark.question

LECTURE = (784, 15, 10)
SMALL = ((1, 1, 1), (3, 4, 2), (5, 3, 4), (2, 6, 3))
KEYS = ("a1", "z2", "a2", "z3", "a3")
TRAINING = {"n_hidden": 15, "lr": 0.5, "epochs": 20, "batch_size": 10}  # stated in the notebook
N_TRAIN = 1000
NUMERICAL = 1e-6  # numerical_gradient: relative error allowed against an exact answer


def network(rng: np.random.Generator, sizes: tuple[int, int, int], m: int,
            scale: float = 1.0) -> tuple[np.ndarray, ...]:
    """``X (n_in, m)``, one-hot ``Y (n_out, m)``, ``w1``, ``w2``: a random batch and network."""
    n_in, n_hidden, n_out = sizes
    X = rng.random((n_in, m))
    w1 = weights(rng, n_hidden, n_in, scale / np.sqrt(n_in + 1))
    w2 = weights(rng, n_out, n_hidden, scale)
    return X, one_hot(rng, n_out, m), w1, w2


def label(sizes: tuple[int, int, int], m: int) -> str:
    return "{} -> {} -> {} network, batch of {}".format(*sizes, m)


# --------------------------------------------------------------------------- sigmoid_grad


@question("sigmoid_grad", points=1)
def test_sigmoid_grad_types(student, rng):
    """`sigmoid_grad` gives a float for a scalar and an array of the same shape for an array."""
    as_float(student.call("sigmoid_grad", float(rng.normal())), what="`sigmoid_grad` of a scalar")
    z = rng.normal(0.0, 3.0, (3, 2))
    as_array(student.call("sigmoid_grad", z), what="`sigmoid_grad` of an array", shape=(3, 2))


@question("sigmoid_grad", points=2)
def test_sigmoid_grad_values(student, reference, rng):
    """`sigmoid_grad` is sigma(z)(1 - sigma(z)) element-wise."""
    for shape in ((7, 1), (4, 5)):
        z = rng.normal(0.0, 4.0, shape)
        expect_array(student.call("sigmoid_grad", z), expected(reference.sigmoid_grad, z),
                     what="`sigmoid_grad` on an array", atol=1e-12)
    z = float(rng.normal(0.0, 2.0))
    expect_float(student.call("sigmoid_grad", z), expected(reference.sigmoid_grad, z),
                 what="`sigmoid_grad` on a scalar", atol=1e-12)


@question("sigmoid_grad", points=2)
def test_sigmoid_grad_saturated(student, reference, rng):
    """Saturated units (|z| from 30 up to 1000): finite, and (almost) 0."""
    z = rng.choice([-1.0, 1.0], (3, 4)) * rng.uniform(30.0, 1000.0, (3, 4))
    z[0, 0], z[-1, -1] = -1000.0, 1000.0
    what = "`sigmoid_grad` on saturated units"
    result = as_finite_array(student.call("sigmoid_grad", z), what=what, shape=z.shape)
    expect_array(result, expected(reference.sigmoid_grad, z), what=what, atol=1e-12)


# --------------------------------------------------------------------------- forward


def forward_result(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict) or not all(key in value for key in KEYS):
        got = "a dict with keys " + ", ".join(sorted(value)) if isinstance(value, dict) \
            else type(value).__name__
        raise GradingFailure(f"{what}: expected a dict with the keys a1, z2, a2, z3, a3; got {got}")
    return value


def forward_cases(rng: np.random.Generator):
    for sizes in (LECTURE, *SMALL[:3]):
        m = int(rng.integers(1, 9))
        yield sizes, m, network(rng, sizes, m)


@question("forward", points=3)
def test_forward_shapes(student, rng):
    """`forward` returns a dict whose five nodes have the shapes of the notebook's table."""
    for sizes, m, (X, _, w1, w2) in forward_cases(rng):
        what = f"`forward` on a {label(sizes, m)}"
        out = forward_result(student.call("forward", X, w1, w2, budget="lecture_size"), what)
        n_in, n_hidden, n_out = sizes
        shapes = {"a1": (n_in + 1, m), "z2": (n_hidden, m), "a2": (n_hidden + 1, m),
                  "z3": (n_out, m), "a3": (n_out, m)}
        for key, shape in shapes.items():
            as_array(out[key], what=f"{what}: {key}", shape=shape)


@question("forward", points=2)
def test_forward_bias_rows_last(student, rng):
    """The bias row of ones is the last row of `a1` and of `a2`."""
    sizes, m = SMALL[2], 4
    X, _, w1, w2 = network(rng, sizes, m)
    what = f"`forward` on a {label(sizes, m)}"
    out = forward_result(student.call("forward", X, w1, w2), what)
    for key, rows in (("a1", sizes[0] + 1), ("a2", sizes[1] + 1)):
        node = as_array(out[key], what=f"{what}: {key}", shape=(rows, m))
        if not np.allclose(node[-1], 1.0):
            raise GradingFailure(f"{what}: the last row of {key} is not the bias row of ones")


@question("forward", points=5)
def test_forward_values(student, reference, rng):
    """Every node of `forward` matches the reference, at the lecture's and other sizes."""
    for sizes, m, (X, _, w1, w2) in forward_cases(rng):
        what = f"`forward` on a {label(sizes, m)}"
        out = forward_result(student.call("forward", X, w1, w2, budget="lecture_size"), what)
        want = expected(reference.forward, X, w1, w2)
        for key in KEYS:
            expect_array(out[key], want[key], what=f"{what}: {key}")


# --------------------------------------------------------------------------- loss


def loss_case(rng: np.random.Generator, n: int, m: int, soft: bool) -> tuple[np.ndarray, ...]:
    A3 = rng.uniform(0.02, 0.98, (n, m))
    Y = rng.uniform(0.0, 1.0, (n, m)) if soft else one_hot(rng, n, m)
    return A3, Y


@question("loss", points=2)
def test_loss_returns_a_float(student, rng):
    """`cross_entropy_loss` returns a float (a NumPy scalar is fine)."""
    as_float(student.call("cross_entropy_loss", *loss_case(rng, 10, 5, False)),
             what="`cross_entropy_loss`")


@question("loss", points=4)
def test_loss_one_hot_targets(student, reference, rng):
    """The mean over the columns of the per-column cross-entropy, one-hot targets."""
    for n, m in ((10, 1), (10, 7), (3, 20), (1, 4)):
        A3, Y = loss_case(rng, n, m, False)
        expect_float(student.call("cross_entropy_loss", A3, Y),
                     expected_float(reference.cross_entropy_loss, A3, Y),
                     what=f"`cross_entropy_loss` on {n} outputs x {m} examples (one-hot targets)")


@question("loss", points=4)
def test_loss_soft_targets(student, reference, rng):
    """The same with targets anywhere in [0, 1]."""
    for n, m in ((10, 6), (4, 3)):
        A3, Y = loss_case(rng, n, m, True)
        expect_float(student.call("cross_entropy_loss", A3, Y),
                     expected_float(reference.cross_entropy_loss, A3, Y),
                     what=f"`cross_entropy_loss` on {n} outputs x {m} examples (soft targets)")


# --------------------------------------------------------------------------- backward


def student_gradients(student, case: tuple[np.ndarray, ...], what: str) -> tuple[np.ndarray, ...]:
    X, Y, w1, w2 = case
    value = student.call("backward", X, Y, w1, w2, budget="lecture_size")
    if type(value) not in (tuple, list) or len(value) != 2:
        raise GradingFailure(f"{what}: expected a pair (dw1, dw2), got {type(value).__name__}")
    return (as_array(value[0], what=f"{what}: dw1", shape=w1.shape),
            as_array(value[1], what=f"{what}: dw2", shape=w2.shape))


def grade_backward(student, reference, cases: list[tuple[str, tuple[np.ndarray, ...]]]) -> None:
    """Shapes first (any wrong shape fails the test), then credit per case by relative error."""
    errors = []
    for what, case in cases:
        dw1, dw2 = student_gradients(student, case, what)
        want1, want2 = expected(reference.backward, *case)
        expect_finite(dw1, what=f"{what}: dw1")
        expect_finite(dw2, what=f"{what}: dw2")
        errors.append(max(rel_error(dw1, want1), rel_error(dw2, want2)))
    credit_by_rel_error(errors, what="`backward`")


@question("backward", points=4)
def test_backward_shapes(student, rng):
    """`backward` returns (dw1, dw2) shaped like (w1, w2): tiny, odd and the lecture's sizes."""
    for sizes in ((1, 1, 1), (3, 4, 2), LECTURE):
        m = int(rng.integers(1, 6))
        student_gradients(student, network(rng, sizes, m), f"`backward` on a {label(sizes, m)}")


@question("backward", points=10)
def test_backward_small_networks(student, reference, rng):
    """Gradients of small and odd-sized networks (1 -> 1 -> 1 included) by relative error."""
    cases = []
    for sizes in SMALL:
        m = int(rng.integers(1, 8))
        cases.append((f"`backward` on a {label(sizes, m)}", network(rng, sizes, m)))
    grade_backward(student, reference, cases)


@question("backward", points=8)
def test_backward_lecture_network(student, reference, rng):
    """Gradients of the lecture's 784 -> 15 -> 10 network by relative error."""
    cases = []
    for m in (1, int(rng.integers(8, 33))):
        cases.append((f"`backward` on a {label(LECTURE, m)}", network(rng, LECTURE, m)))
    grade_backward(student, reference, cases)


def saturated(rng: np.random.Generator, sizes: tuple[int, int, int], m: int):
    """A case whose hidden units are saturated; outputs only moderately (see ``accept``)."""
    X, Y, _, _ = network(rng, sizes, m)
    w1 = weights(rng, sizes[1], sizes[0], 30.0 / np.sqrt(sizes[0] + 1))
    w2 = weights(rng, sizes[2], sizes[1], 2.0)
    return X, Y, w1, w2


def accept_saturated(reference, case: tuple[np.ndarray, ...]) -> bool:
    """Most hidden units with |z2| > 8, every output with |z3| <= 15.

    Saturated outputs are left out on purpose: past |z3| ~ 20 the loss itself
    loses its precision, and a backward pass that follows the chain rule through
    dL/da3 without simplifying (a reasonable way to write it) would be charged
    for the float format rather than for a mistake.
    """
    nodes = expected(reference.forward, case[0], case[2], case[3])
    return bool(np.mean(np.abs(nodes["z2"]) > 8) > 0.5 and np.max(np.abs(nodes["z3"])) <= 15)


@question("backward", points=8)
def test_backward_saturated_units(student, reference, rng):
    """Gradients stay right (and finite) when hidden sigmoid units are saturated."""
    cases = []
    for sizes in ((3, 4, 2), (6, 5, 3), LECTURE):
        m = int(rng.integers(2, 7))
        case = draw(lambda s=sizes, k=m: saturated(rng, s, k),
                    lambda c: accept_saturated(reference, c))
        cases.append((f"`backward` on a {label(sizes, m)} with saturated hidden units", case))
    grade_backward(student, reference, cases)


# --------------------------------------------------------------------------- numerical_gradient


def quadratic(rng: np.random.Generator, shape: tuple[int, ...]):
    """``(f, w, gradient)``: f(v) = sum(A (v - c)^2) / 2 with a small gradient at w.

    Curvature A in [5, 20] against gradient entries of size 0.005 to 0.05: a
    one-sided difference is off by A h / 2 >= 2.5e-5, a relative error > 2e-4.
    """
    A = rng.uniform(5.0, 20.0, shape)
    w = rng.normal(0.0, 1.0, shape)
    g = rng.choice([-1.0, 1.0], shape) * rng.uniform(0.005, 0.05, shape)
    c = w - g / A

    def f(v: Any) -> float:
        return float(0.5 * np.sum(A * (np.asarray(v, dtype=np.float64) - c) ** 2))

    return f, w, g


def numerical(student, f, w: np.ndarray, what: str, *h: float) -> tuple[np.ndarray, np.ndarray]:
    """The student's gradient and ``w`` as their function left it (both shape-checked)."""
    value, args = student.call_seeing_args("numerical_gradient", f, w.copy(), *h,
                                           budget="gradient")
    grad = as_finite_array(value, what=what, shape=w.shape)
    after = args[1] if len(args) > 1 else None
    return grad, after


def close_enough(grad: np.ndarray, want: np.ndarray, what: str, tolerance: float) -> None:
    if rel_error(grad, want) >= tolerance:
        raise GradingFailure(f"{what}: the gradient is not the centred difference of f "
                             "(relative error too large)")


@question("numerical_gradient", points=5)
def test_numerical_gradient_of_quadratics(student, rng):
    """Exact gradients of quadratics, for w of several shapes (1-d and 2-d)."""
    for shape in ((6,), (3, 4), (1, 1), (5, 1)):
        f, w, g = quadratic(rng, shape)
        what = f"`numerical_gradient` of a quadratic at w of shape {shape}"
        grad, _ = numerical(student, f, w, what)
        close_enough(grad, g, what, NUMERICAL)


@question("numerical_gradient", points=5)
def test_numerical_gradient_of_the_loss(student, reference, rng):
    """The reference loss as a function of w1 and of w2 of a small network."""
    for sizes in ((3, 4, 2), (2, 3, 3)):
        X, Y, w1, w2 = network(rng, sizes, 5)

        def of_w1(v, X=X, Y=Y, w2=w2):
            return reference.cross_entropy_loss(reference.forward(X, v, w2)["a3"], Y)

        def of_w2(v, X=X, Y=Y, w1=w1):
            return reference.cross_entropy_loss(reference.forward(X, w1, v)["a3"], Y)

        for f, w, name in ((of_w1, w1, "w1"), (of_w2, w2, "w2")):
            what = f"`numerical_gradient` of the loss of a {label(sizes, 5)} in {name}"
            grad, _ = numerical(student, f, w, what)
            close_enough(grad, expected(reference.numerical_gradient, f, w.copy()), what, 1e-7)


@question("numerical_gradient", points=2)
def test_numerical_gradient_uses_h(student, reference, rng):
    """The step `h` passed in is the one used (checked with h = 0.01 on a cubic)."""
    c = rng.uniform(1.0, 3.0, (2, 3))
    w = rng.uniform(0.5, 1.5, (2, 3))

    def cubic(v: Any) -> float:
        return float(np.sum(c * np.asarray(v, dtype=np.float64) ** 3))

    what = "`numerical_gradient` with h = 0.01"
    grad, _ = numerical(student, cubic, w, what, 0.01)
    close_enough(grad, expected(reference.numerical_gradient, cubic, w.copy(), 0.01), what, 1e-7)


@question("numerical_gradient", points=3)
def test_numerical_gradient_leaves_w_unchanged(student, rng):
    """`w` is as it was when `numerical_gradient` returns (entries restored, not shifted)."""
    for shape in ((4,), (3, 3)):
        f, w, _ = quadratic(rng, shape)
        what = f"`numerical_gradient` at w of shape {shape}"
        _, after = numerical(student, f, w, what)
        after = as_array(after, what=f"{what}: w afterwards", shape=shape)
        changed = int(np.count_nonzero(~np.isclose(after, w, rtol=1e-12, atol=1e-15)))
        if changed:
            raise GradingFailure(f"{what}: changed {changed} of {w.size} entries of w; "
                                 "put every entry back as it was")


# --------------------------------------------------------------------------- sgd


@question("sgd", points=5)
def test_sgd_step_values(student, reference, rng):
    """`sgd_step` returns w - lr * dw."""
    for shape in ((15, 785), (1, 2), (4, 3)):
        w, dw, lr = rng.normal(0, 1, shape), rng.normal(0, 1, shape), float(rng.uniform(0.01, 2))
        expect_array(student.call("sgd_step", w, dw, lr), expected(reference.sgd_step, w, dw, lr),
                     what=f"`sgd_step` on arrays of shape {shape}")


@question("sgd", points=5)
def test_sgd_step_leaves_its_inputs_alone(student, rng):
    """Neither `w` nor `dw` is modified."""
    w, dw = rng.normal(0, 1, (3, 4)), rng.normal(0, 1, (3, 4))
    _, (w_after, dw_after, _) = student.call_seeing_args("sgd_step", w, dw, 0.1)
    for name, before, after in (("w", w, w_after), ("dw", dw, dw_after)):
        after = as_array(after, what=f"`sgd_step`: {name} afterwards", shape=before.shape)
        if not np.array_equal(after, before):
            raise GradingFailure(f"`sgd_step` modified its input `{name}`; return a new array")


# --------------------------------------------------------------------------- train


def trained_weights(student, X: np.ndarray, Y: np.ndarray, seed: int, n_hidden: int,
                    **options: Any) -> tuple[np.ndarray, np.ndarray]:
    settings = dict(TRAINING, n_hidden=n_hidden, **options)
    value = student.call("train", X, Y, settings["n_hidden"], settings["lr"], settings["epochs"],
                         settings["batch_size"], seed, budget="train")
    what = "`train`"
    if type(value) not in (tuple, list) or len(value) != 2:
        raise GradingFailure(f"{what}: expected a pair (w1, w2), got {type(value).__name__}")
    w1 = as_array(value[0], what=f"{what}: w1", shape=(n_hidden, X.shape[0] + 1))
    w2 = as_array(value[1], what=f"{what}: w2", shape=(Y.shape[0], n_hidden + 1))
    expect_finite(w1, what=f"{what}: w1")
    expect_finite(w2, what=f"{what}: w2")
    return w1, w2


@question("train", points=2)
def test_train_returns_weights(student, rng):
    """`train` returns (w1, w2) of the right shapes for the sizes it is given."""
    X, Y, _, _ = network(rng, (4, 3, 2), 12)
    trained_weights(student, X, Y, int(rng.integers(0, 2**31)), 3, epochs=2, batch_size=5)


def digits_split(assignment, rng: np.random.Generator):
    """1000 training digits chosen here; every other digit of the file is held out."""
    with np.load(assignment.public_dir / "digits.npz") as data:
        images = np.concatenate([data["train_images"], data["test_images"]]) / 255.0
        labels = np.concatenate([data["train_labels"], data["test_labels"]]).astype(int)
    order = rng.permutation(len(labels))
    train, held = order[:N_TRAIN], order[N_TRAIN:]
    # float32 halves the request (6 MB instead of 12 MB of JSON per training call)
    X = np.ascontiguousarray(images[train].T, dtype=np.float32)
    return X, np.eye(10)[:, labels[train]], images[held].T, labels[held]


def grade_training(student, reference, assignment, rng: np.random.Generator) -> None:
    X, Y, X_held, labels = digits_split(assignment, rng)
    seed = int(rng.integers(0, 2**31))
    w1, w2 = trained_weights(student, X, Y, seed, TRAINING["n_hidden"])
    predicted = np.argmax(expected(reference.forward, X_held, w1, w2)["a3"], axis=0)
    accuracy = float(np.mean(predicted == labels))
    said = f"`train`: the trained network classified {accuracy:.0%} of held-out digits correctly"
    if accuracy >= 0.85:
        return
    if accuracy >= 0.70:
        raise PartialCredit(0.5, f"{said} (85 % for full credit; 70 % or more: half)")
    raise GradingFailure(f"{said} (70 % or more needed for credit)")


@question("train", points=9)
def test_train_on_digits(student, reference, assignment, rng):
    """Held-out accuracy after training on 1000 digits with a seed chosen at grading time."""
    grade_training(student, reference, assignment, rng)


@question("train", points=9)
def test_train_on_other_digits_and_seed(student, reference, assignment, rng):
    """The same with other training digits and another seed."""
    grade_training(student, reference, assignment, rng)
