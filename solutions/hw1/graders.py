"""Hidden graders for HW1: perceptrons, forward propagation and cost functions.

The contract is the course's HW1 spec; points per question are in ``assignment.toml``. Conventions of this file:

* Every test carries exactly one ``question`` marker; the points of the tests
  of a question add up to its points in ``assignment.toml`` (the engine verifies this).
* Inputs are drawn fresh from the per-test ``rng`` (seeded from the run's
  recorded seed); expected values come from the trusted ``reference`` module
  in float64. Cases are drawn so that the answer is well defined: no
  perceptron sum within 1e-6 of 0 except in the boundary test (where it is
  exactly 0 in any order of evaluation), no near-ties for ``predict``, and
  forward-pass weights for which appending the bias first instead of last
  changes the output by far more than the tolerance.
* Each test checks the type (and shape) before the values. A value of the
  wrong type fails every test of that function that looks at the value: a
  separate, small "type" test gives the credit for getting the type right.
* A mistake is charged once: ``AND_WEIGHTS`` / ``OR_WEIGHTS`` are graded
  through the *reference* perceptron; a failed ``neural_network`` / ``predict``
  test is run again with the reference ``sigmoid`` / ``neural_network`` bound
  (the manifest's ``[dependencies]``, docs/grading-policy.md). ``xor`` is not:
  it is part of ``perceptron``'s own question.
* Hard-coded answers do not pass: the lecture examples are paired with a
  second, random target, and every type test has a random-input value test.
* Cross-entropies only get ``y_hat`` in [0.02, 0.98]: clipping inside the
  logs (at 1e-7, 1e-12, ...) or adding a small epsilon there still matches.
* The only student-visible text is the ``what`` labels and the messages of
  ``autograder.toolkit.checks``; they never contain inputs or expected values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

from autograder.toolkit.cases import column, draw, expected, expected_float, one_hot, probabilities
from autograder.toolkit.checks import (
    GradingFailure,
    as_array,
    as_finite_array,
    as_float,
    as_int,
    as_real_sequence,
    case_labels,
    expect_array,
    expect_each,
    expect_float,
    expect_int,
)

question = pytest.mark.question

BITS = ((0, 0), (0, 1), (1, 0), (1, 1))
LECTURE_SIZES = (784, 15, 10)
OTHER_SIZES = ((3, 4, 2), (1, 1, 1), (20, 7, 5))

# The lecture's squared-error example (the slide prints 1.67; the sum is 1.58).
LECTURE_PREDICTION = np.array([0.1, 0.2, 0.3, 0.2, 0.1, 0.8, 0.1, 0.2, 0.3, 0.1]).reshape(10, 1)
LECTURE_TARGET = np.eye(10)[:, [1]]
LECTURE_SQUARED_ERROR = 1.58


def compare_each(student, reference, name: str, cases: list[tuple[Any, ...]], labels: list[str],
                 check: Callable[..., None] = expect_float) -> None:
    """``name`` on every case in one round trip; each result checked against the reference's."""
    values = student.call_each(name, cases)
    answer = expected_float if check is expect_float else expected
    answers = [answer(getattr(reference, name), *case) for case in cases]
    expect_each(check, values, answers, labels)


# --------------------------------------------------------------------------- perceptron


def perceptron_sum(x1: float, x2: float, w: tuple[float, float, float]) -> float:
    return w[0] + w[1] * x1 + w[2] * x2


def random_perceptron_cases(rng: np.random.Generator, count: int) -> list[tuple[Any, ...]]:
    """``count`` cases ``(x1, x2, w)``: half on bits, half on real inputs; no sum near 0."""

    def make_case(index: int) -> tuple[Any, ...]:
        w = tuple(float(v) for v in rng.normal(0.0, 2.0, 3))
        if index % 2:
            return (float(rng.normal(0.0, 2.0)), float(rng.normal(0.0, 2.0)), w)
        return (int(rng.integers(0, 2)), int(rng.integers(0, 2)), w)

    def make() -> list[tuple[Any, ...]]:
        return [
            draw(lambda i=i: make_case(i), lambda c: abs(perceptron_sum(*c)) > 1e-6)
            for i in range(count)
        ]

    return draw(make, lambda cases: len({perceptron_sum(*c) >= 0 for c in cases}) == 2)


def boundary_perceptron_cases(rng: np.random.Generator) -> list[tuple[Any, ...]]:
    """Cases whose sum is exactly 0 (answer 1) or exactly -0.25 / +0.25.

    All numbers are small multiples of 1/4, so every partial sum is exact in
    floating point whatever the order of evaluation (``np.dot``, a loop, ...).
    """
    cases: list[tuple[Any, ...]] = [(1, 1, (-2.0, 1.0, 1.0)), (0, 0, (0.0, 1.0, -1.0))]
    for _ in range(6):
        w1, w2 = (float(v) for v in rng.integers(-12, 13, 2) / 4)
        if rng.integers(0, 2):
            x1, x2 = (int(v) for v in rng.integers(0, 2, 2))
        else:
            x1, x2 = (float(v) for v in rng.integers(-8, 9, 2) / 4)
        w0 = -(w1 * x1 + w2 * x2)
        offset = float(rng.choice([0.0, 0.0, -0.25, 0.25]))
        cases.append((x1, x2, (w0 + offset, w1, w2)))
    return cases


@question("perceptron", points=2)
def test_perceptron_returns_int(student, rng):
    """`perceptron` returns an int (not bool or float) on bits and on real inputs."""
    w = tuple(float(v) for v in rng.normal(0.0, 2.0, 3))
    inputs = (*BITS, (float(rng.normal()), float(rng.normal())))
    for value in student.call_each("perceptron", [(x1, x2, w) for x1, x2 in inputs]):
        as_int(value, what="`perceptron`")


@question("perceptron", points=4)
def test_perceptron_matches_reference(student, reference, rng):
    """`perceptron` agrees with the hard threshold on random weights and inputs."""
    cases = random_perceptron_cases(rng, 24)
    values = student.call_each("perceptron", cases)
    answers = [int(reference.perceptron(*case)) for case in cases]
    labels = case_labels("`perceptron` on random weights and inputs", len(cases))
    expect_each(expect_int, values, answers, labels)


@question("perceptron", points=2)
def test_perceptron_threshold_boundary(student, reference, rng):
    """A sum of exactly 0 gives 1 (the slide's `>= 0`), a sum just below 0 gives 0."""
    cases = boundary_perceptron_cases(rng)
    values = student.call_each("perceptron", cases)
    answers = [int(reference.perceptron(*case)) for case in cases]
    what = "`perceptron` when w0 + w1*x1 + w2*x2 is exactly 0 or close to it"
    labels = case_labels(what, len(cases), note="; the slide's threshold is `>= 0`")
    expect_each(expect_int, values, answers, labels)


def check_gate_weights(student, reference, name: str, gate: str, truth: Callable) -> None:
    """The student's weights, run through the reference perceptron, compute ``gate``."""
    w = as_real_sequence(student.get(name), what=f"`{name}`", length=3)
    for x1, x2 in BITS:
        if int(reference.perceptron(x1, x2, w)) != truth(x1, x2):
            raise GradingFailure(
                f"`{name}`: with these weights a correct perceptron does not compute "
                f"{gate}: its output is wrong for (x1, x2) = ({x1}, {x2})"
            )


@question("perceptron", points=2)
def test_and_weights(student, reference):
    """`AND_WEIGHTS` makes a (correct) perceptron compute AND on {0,1}²."""
    check_gate_weights(student, reference, "AND_WEIGHTS", "AND", lambda a, b: a & b)


@question("perceptron", points=2)
def test_or_weights(student, reference):
    """`OR_WEIGHTS` makes a (correct) perceptron compute OR on {0,1}²."""
    check_gate_weights(student, reference, "OR_WEIGHTS", "OR", lambda a, b: a | b)


@question("perceptron", points=3)
def test_xor_truth_table(student):
    """`xor` returns the int XOR of its two bits on all of {0,1}²."""
    for (x1, x2), value in zip(BITS, student.call_each("xor", BITS)):
        what = f"`xor({x1}, {x2})`"
        if as_int(value, what=what) != x1 ^ x2:
            raise GradingFailure(f"{what}: returned the wrong bit")


# --------------------------------------------------------------------------- sigmoid

ARRAY_SHAPES = ((5, 1), (7,), (2, 3))


@question("sigmoid", points=2)
def test_sigmoid_scalar(student, reference, rng):
    """A scalar input gives a float (NumPy scalar or 0-d array allowed) with the right value."""
    inputs = (0.0, *(float(v) for v in rng.uniform(-8.0, 8.0, 5)))
    compare_each(student, reference, "sigmoid", [(x,) for x in inputs],
                 ["`sigmoid` on a scalar"] * len(inputs))


@question("sigmoid", points=2)
def test_sigmoid_array_shape(student, rng):
    """An ndarray input gives an ndarray of the same shape."""
    inputs = [(rng.uniform(-5.0, 5.0, shape),) for shape in ARRAY_SHAPES]
    for shape, value in zip(ARRAY_SHAPES, student.call_each("sigmoid", inputs)):
        as_array(value, what=f"`sigmoid` on an ndarray of shape {shape}", shape=shape)


@question("sigmoid", points=3)
def test_sigmoid_array_values(student, reference, rng):
    """Element-wise values on moderate inputs (where the tanh form is just as accurate)."""
    inputs = [rng.uniform(-10.0, 10.0, shape) for shape in ARRAY_SHAPES]
    labels = [f"`sigmoid` on an ndarray of shape {x.shape}" for x in inputs]
    compare_each(student, reference, "sigmoid", [(x,) for x in inputs], labels, expect_array)


@question("sigmoid", points=3)
def test_sigmoid_extreme_inputs(student, reference, rng):
    """Inputs across [-1000, 1000]: finite, within [0, 1], and correct (warnings allowed)."""
    edges = [-1000.0, 1000.0, -745.0, 745.0, -710.0, 710.0, -100.0, 100.0, -40.0, 40.0, 0.0]
    x = column([*edges, *rng.uniform(-1000.0, 1000.0, 20)])
    rng.shuffle(x)
    what = "`sigmoid` on a column vector with entries in [-1000, 1000]"
    value = as_finite_array(student.call("sigmoid", x), what=what, shape=x.shape,
                            within=(0.0, 1.0))
    expect_array(value, expected(reference.sigmoid, x), what=what)
    compare_each(student, reference, "sigmoid", [(-1000.0,), (1000.0,)],
                 ["`sigmoid` on a scalar in [-1000, 1000]"] * 2)


# --------------------------------------------------------------------------- neural network


def bias_first_forward(x: np.ndarray, w1: np.ndarray, w2: np.ndarray) -> np.ndarray:
    """The classic mistake (bias unit prepended): used only to vet drawn cases."""
    with np.errstate(over="ignore", under="ignore"):
        hidden = 1.0 / (1.0 + np.exp(-(w1 @ np.vstack([[1.0], x]))))
        return 1.0 / (1.0 + np.exp(-(w2 @ np.vstack([[1.0], hidden]))))


def network_case(reference, rng: np.random.Generator,
                 sizes: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random ``(x, w1, w2)`` with unsaturated units, on which bias-first clearly differs."""
    n_in, n_hidden, n_out = sizes

    def make() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if sizes == LECTURE_SIZES:
            x = rng.uniform(0.0, 1.0, (n_in, 1))  # pixel intensities
        else:
            x = rng.normal(0.0, 1.0, (n_in, 1))
        w1 = rng.normal(0.0, 2.0 / np.sqrt(n_in + 1), (n_hidden, n_in + 1))
        w2 = rng.normal(0.0, 2.0 / np.sqrt(n_hidden + 1), (n_out, n_hidden + 1))
        return x, w1, w2

    def bias_last_matters(case: tuple[np.ndarray, ...]) -> bool:
        right = expected(reference.neural_network, *case)
        return float(np.max(np.abs(right - bias_first_forward(*case)))) > 1e-3

    return draw(make, bias_last_matters)


def sizes_label(sizes: tuple[int, int, int]) -> str:
    return "{} -> {} -> {}".format(*sizes)


def call_forward(student, name: str, sizes: tuple[int, ...], *args: Any) -> Any:
    """At the lecture's size a call has the manifest's ``forward`` budget (loops are allowed)."""
    budget = "forward" if sizes == LECTURE_SIZES else None
    return student.call(name, *args, budget=budget)


@question("neural_network", points=4)
def test_neural_network_output_shape(student, reference, rng):
    """`neural_network` returns an ndarray of shape (n_out, 1), at the lecture's and other sizes."""
    for sizes in (LECTURE_SIZES, *OTHER_SIZES):
        x, w1, w2 = network_case(reference, rng, sizes)
        as_array(call_forward(student, "neural_network", sizes, x, w1, w2),
                 what=f"`neural_network` on a {sizes_label(sizes)} network", shape=(sizes[2], 1))


@question("neural_network", points=7)
def test_neural_network_values_lecture_sizes(student, reference, rng):
    """Forward pass of the lecture's 784 -> 15 -> 10 network (bias appended last)."""
    for _ in range(2):
        x, w1, w2 = network_case(reference, rng, LECTURE_SIZES)
        expect_array(call_forward(student, "neural_network", LECTURE_SIZES, x, w1, w2),
                     expected(reference.neural_network, x, w1, w2),
                     what=f"`neural_network` on a {sizes_label(LECTURE_SIZES)} network")


@question("neural_network", points=6)
def test_neural_network_values_other_sizes(student, reference, rng):
    """Forward pass at other layer sizes, including a 1 -> 1 -> 1 network."""
    cases = [network_case(reference, rng, sizes) for sizes in OTHER_SIZES]
    labels = [f"`neural_network` on a {sizes_label(sizes)} network" for sizes in OTHER_SIZES]
    # small networks: one call's time each
    compare_each(student, reference, "neural_network", cases, labels, expect_array)


PREDICT_SIZES = (LECTURE_SIZES,) * 3 + ((20, 7, 5),) * 3 + ((3, 4, 2),) * 2


def prediction_cases(reference, rng: np.random.Generator) -> list[tuple[Any, ...]]:
    """``(sizes, x, w1, w2, expected_class)`` cases for ``predict``.

    Each case has a clear winner (no near-tie); the classes are not all equal
    (a constant fails), and appending the bias first changes the winner in at
    least one case (so that classic mistake loses these points on every seed).
    """

    def clear_winner(case: tuple[np.ndarray, ...]) -> bool:
        top_two = np.sort(expected(reference.neural_network, *case).ravel())[-2:]
        return float(top_two[1] - top_two[0]) > 1e-6

    def make() -> list[tuple[Any, ...]]:
        cases = []
        for sizes in PREDICT_SIZES:
            case = draw(lambda s=sizes: network_case(reference, rng, s), clear_winner)
            cases.append((sizes, *case, int(expected(reference.predict, *case))))
        return cases

    def discriminating(cases: list[tuple[Any, ...]]) -> bool:
        classes = {case[-1] for case in cases}
        bias_first_differs = any(
            int(np.argmax(bias_first_forward(*case[1:4]))) != case[-1] for case in cases
        )
        return len(classes) >= 2 and bias_first_differs

    return draw(make, discriminating)


@question("neural_network", points=2)
def test_predict_returns_int(student, reference, rng):
    """`predict` returns an int (a NumPy integer such as `np.argmax`'s result is fine)."""
    x, w1, w2 = network_case(reference, rng, LECTURE_SIZES)
    as_int(call_forward(student, "predict", LECTURE_SIZES, x, w1, w2),
           what=f"`predict` on a {sizes_label(LECTURE_SIZES)} network")


@question("neural_network", points=6)
def test_predict_values(student, reference, rng):
    """`predict` is the index of the largest output, on several random networks."""
    cases = prediction_cases(reference, rng)
    values = (call_forward(student, "predict", *case[:4]) for case in cases)  # one at a time
    labels = [f"`predict` on a {sizes_label(case[0])} network (case {number} of {len(cases)})"
              for number, case in enumerate(cases, start=1)]
    expect_each(expect_int, values, [case[-1] for case in cases], labels)


# --------------------------------------------------------------------------- cost functions


def squared_error_cases(rng: np.random.Generator) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    for n in (1, 3, 10, 25):
        yield rng.uniform(0.0, 1.0, (n, 1)), one_hot(rng, n)
        yield rng.normal(0.0, 2.0, (n, 1)), rng.normal(0.0, 2.0, (n, 1))


@question("mean_squared_error", points=2)
def test_mean_squared_error_returns_float(student, rng):
    """`mean_squared_error` returns a float, not an array (a 0-d array is fine)."""
    as_float(student.call("mean_squared_error", rng.uniform(0.0, 1.0, (10, 1)), one_hot(rng, 10)),
             what="`mean_squared_error`")


def other_lecture_target(rng: np.random.Generator) -> np.ndarray:
    """A one-hot target for the lecture's prediction where it does not predict 0.2.

    (Classes 3 and 7 are predicted 0.2 like class 1, so they would give the
    same costs as the lecture's example and let a hard-coded answer pass.)
    """
    return np.eye(10)[:, [int(rng.choice([0, 2, 4, 5, 6, 8, 9]))]]


@question("mean_squared_error", points=3)
def test_mean_squared_error_lecture_example(student, reference, rng):
    """The lecture's example is 1.58 (a sum; the slide's 1.67 is a typo); then another target."""
    expect_float(student.call("mean_squared_error", LECTURE_PREDICTION, LECTURE_TARGET),
                 LECTURE_SQUARED_ERROR,
                 what="`mean_squared_error` on the lecture's example (a sum, not a mean)")
    target = other_lecture_target(rng)
    what = "`mean_squared_error` on the lecture's prediction with another one-hot target"
    expect_float(student.call("mean_squared_error", LECTURE_PREDICTION, target),
                 expected_float(reference.mean_squared_error, LECTURE_PREDICTION, target),
                 what=what)


@question("mean_squared_error", points=5)
def test_mean_squared_error_values(student, reference, rng):
    """Random column vectors of several lengths, one-hot and real-valued targets."""
    cases = list(squared_error_cases(rng))
    labels = [f"`mean_squared_error` on column vectors of shape {y.shape}" for _, y in cases]
    compare_each(student, reference, "mean_squared_error", cases, labels)


@question("sigmoid_cross_entropy", points=2)
def test_sigmoid_cross_entropy_returns_float(student, rng):
    """`sigmoid_cross_entropy` returns a float, not an array (a 0-d array is fine)."""
    y_hat = rng.uniform(0.02, 0.98, (10, 1))
    as_float(student.call("sigmoid_cross_entropy", y_hat, one_hot(rng, 10)),
             what="`sigmoid_cross_entropy`")


@question("sigmoid_cross_entropy", points=3)
def test_sigmoid_cross_entropy_lecture_example(student, reference, rng):
    """The lecture's prediction with its one-hot target, then with another one."""
    cases = [(LECTURE_PREDICTION, LECTURE_TARGET), (LECTURE_PREDICTION, other_lecture_target(rng))]
    labels = [f"`sigmoid_cross_entropy` on {label}" for label in (
        "the lecture's example", "the lecture's prediction with another one-hot target")]
    compare_each(student, reference, "sigmoid_cross_entropy", cases, labels)


@question("sigmoid_cross_entropy", points=7)
def test_sigmoid_cross_entropy_binary_targets(student, reference, rng):
    """Random predictions in (0, 1) against random 0/1 targets, several lengths."""
    cases = [(rng.uniform(0.02, 0.98, (n, 1)), rng.integers(0, 2, (n, 1)).astype(np.float64))
             for n in (1, 4, 10, 30) for _ in range(2)]
    labels = [f"`sigmoid_cross_entropy` with 0/1 targets of shape {y.shape}" for _, y in cases]
    compare_each(student, reference, "sigmoid_cross_entropy", cases, labels)


@question("sigmoid_cross_entropy", points=3)
def test_sigmoid_cross_entropy_soft_targets(student, reference, rng):
    """Targets anywhere in [0, 1]: both log terms of the formula count for every i."""
    cases = [(rng.uniform(0.02, 0.98, (n, 1)), rng.uniform(0.0, 1.0, (n, 1))) for n in (3, 10)]
    labels = [f"`sigmoid_cross_entropy` with targets in [0, 1] of shape {y.shape}"
              for _, y in cases]
    compare_each(student, reference, "sigmoid_cross_entropy", cases, labels)


# --------------------------------------------------------------------------- softmax


@question("softmax", points=2)
def test_softmax_output_shape(student, rng):
    """`softmax` of an (n, 1) column vector is an ndarray of shape (n, 1)."""
    sizes = (1, 4, 10)
    inputs = [(rng.normal(0.0, 3.0, (n, 1)),) for n in sizes]
    for n, value in zip(sizes, student.call_each("softmax", inputs)):
        as_array(value, what=f"`softmax` on a column vector of shape ({n}, 1)", shape=(n, 1))


@question("softmax", points=5)
def test_softmax_values(student, reference, rng):
    """Values on moderate logits, several lengths."""
    sizes = (1, 2, 5, 10, 50)
    cases = [(rng.normal(0.0, 3.0, (n, 1)),) for n in sizes]
    labels = [f"`softmax` on a column vector of shape ({n}, 1)" for n in sizes]
    compare_each(student, reference, "softmax", cases, labels, expect_array)


@question("softmax", points=3)
def test_softmax_large_logits(student, reference, rng):
    """Entries up to ±1000 stay finite, in [0, 1], sum to 1 and match (subtract the max)."""
    cases = [
        column([1000.0, 1000.0, 1000.0]),
        column([1000.0, -1000.0]),
        column([-1000.0, -999.0, -1000.0, -998.5]),
        column([1000.0, *rng.uniform(-1000.0, 1000.0, 9)]),
        column([-1000.0, *rng.uniform(990.0, 1000.0, 6)]),
    ]
    for z, value in zip(cases, student.call_each("softmax", [(z,) for z in cases])):
        what = f"`softmax` on a column vector of shape {z.shape} with entries up to ±1000"
        value = as_finite_array(value, what=what, shape=z.shape, within=(0.0, 1.0))
        if not np.isclose(value.sum(), 1.0, rtol=0.0, atol=1e-6):
            raise GradingFailure(f"{what}: returned entries that do not sum to 1")
        expect_array(value, expected(reference.softmax, z), what=what)


# --------------------------------------------------------------------------- softmax cross-entropy


@question("softmax_cross_entropy", points=2)
def test_softmax_cross_entropy_returns_float(student, rng):
    """`softmax_cross_entropy` returns a float, not an array (a 0-d array is fine)."""
    as_float(student.call("softmax_cross_entropy", probabilities(rng, 10), one_hot(rng, 10)),
             what="`softmax_cross_entropy`")


@question("softmax_cross_entropy", points=9)
def test_softmax_cross_entropy_one_hot_targets(student, reference, rng):
    """Random probability vectors against one-hot targets, several lengths."""
    cases = [(probabilities(rng, n), one_hot(rng, n)) for n in (2, 3, 10, 10, 25)]
    labels = [f"`softmax_cross_entropy` with one-hot targets of shape {y.shape}" for _, y in cases]
    compare_each(student, reference, "softmax_cross_entropy", cases, labels)


@question("softmax_cross_entropy", points=4)
def test_softmax_cross_entropy_soft_targets(student, reference, rng):
    """Targets that are probability vectors (not one-hot): every term of the sum counts."""
    cases = []
    for n in (3, 10):
        y_hat = probabilities(rng, n)
        weights = rng.uniform(0.0, 1.0, (n, 1))
        cases.append((y_hat, weights / weights.sum()))
    labels = [f"`softmax_cross_entropy` with probability-vector targets of shape {y.shape}"
              for _, y in cases]
    compare_each(student, reference, "softmax_cross_entropy", cases, labels)
