"""The generated reference solution (solutions/hw1/reference.py) meets specs/hw1.md."""

from __future__ import annotations

import ast
import inspect
import itertools

import numpy as np
import pytest
from hw1_helpers import FUNCTIONS, REFERENCE, SPEC_NAMES

LECTURE_PREDICTION = np.array(
    [[0.1], [0.2], [0.3], [0.2], [0.1], [0.8], [0.1], [0.2], [0.3], [0.1]]
)
LECTURE_TARGET = np.eye(10)[:, [1]]  # one-hot at index 1, shape (10, 1)
BITS = list(itertools.product([0, 1], repeat=2))


def plain_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def test_defines_exactly_the_spec_names(reference):
    """Public names are exactly the spec's (plus numpy); every spec function is callable."""
    tree = ast.parse(REFERENCE.read_text(encoding="utf-8"))
    top = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            top.add(node.name)
        elif isinstance(node, ast.Assign):
            top.update(t.id for t in node.targets if isinstance(t, ast.Name))
    assert {n for n in top if not n.startswith("_")} == set(SPEC_NAMES)
    assert reference.np is np
    for name in FUNCTIONS:
        assert callable(getattr(reference, name)), name


def test_header_says_generated_and_how(reference):
    """The module says it is generated, from which master and by which command."""
    head = REFERENCE.read_text(encoding="utf-8").splitlines()[:5]
    text = "\n".join(head)
    assert "GENERATED" in text
    assert "solutions/hw1/hw1-master.ipynb" in text
    assert "python solutions/build.py hw1" in text


SIGNATURES = {
    "perceptron": ["x1", "x2", "w"],
    "xor": ["x1", "x2"],
    "sigmoid": ["x"],
    "neural_network": ["x", "w1", "w2"],
    "predict": ["x", "w1", "w2"],
    "mean_squared_error": ["y_hat", "y"],
    "sigmoid_cross_entropy": ["y_hat", "y"],
    "softmax": ["z"],
    "softmax_cross_entropy": ["y_hat", "y"],
}


@pytest.mark.parametrize("name", list(SIGNATURES), ids=list(SIGNATURES))
def test_signatures_match_the_spec(reference, name):
    """Each function has the spec's parameter names."""
    assert list(inspect.signature(getattr(reference, name)).parameters) == SIGNATURES[name]


# ----------------------------------------------------------------------------- perceptron


def test_perceptron_hard_threshold_is_inclusive(reference):
    """perceptron returns the int 1 when the weighted sum is >= 0 (0 included), else 0."""
    assert reference.perceptron(0, 0, (0, 1, 1)) == 1
    assert reference.perceptron(0, 0, (-1e-12, 1, 1)) == 0
    assert reference.perceptron(1, 1, (-2, 1, 1)) == 1
    for x1, x2 in BITS:
        out = reference.perceptron(x1, x2, (-0.5, 1, 1))
        assert type(out) is int


GATES = {
    "AND": ("AND_WEIGHTS", lambda a, b: a & b),
    "OR": ("OR_WEIGHTS", lambda a, b: a | b),
}


@pytest.mark.parametrize("gate", list(GATES), ids=list(GATES))
def test_gate_weights_give_the_truth_table(reference, gate):
    """AND_WEIGHTS / OR_WEIGHTS are 3-tuples with which perceptron computes the gate."""
    weights_name, truth = GATES[gate]
    weights = getattr(reference, weights_name)
    assert isinstance(weights, tuple) and len(weights) == 3
    for x1, x2 in BITS:
        assert reference.perceptron(x1, x2, weights) == truth(x1, x2), (x1, x2)


def test_xor_truth_table(reference):
    """xor(x1, x2) is the XOR truth table, as ints."""
    for x1, x2 in BITS:
        out = reference.xor(x1, x2)
        assert out == x1 ^ x2 and type(out) is int, (x1, x2, out)


# ----------------------------------------------------------------------------- sigmoid


def test_sigmoid_scalar_gives_float(reference):
    """sigmoid(0) is exactly 0.5 and a scalar input gives a float."""
    out = reference.sigmoid(0)
    assert isinstance(out, float) and out == 0.5


def test_sigmoid_extreme_range_is_finite_without_warnings(reference):
    """On [-1000, 1000] the sigmoid is finite, within [0, 1], monotone and never NaN."""
    x = np.linspace(-1000, 1000, 20001)
    out = reference.sigmoid(x)  # filterwarnings=error: an overflow warning would fail here
    assert out.shape == x.shape
    assert not np.isnan(out).any()
    assert np.all((out >= 0) & (out <= 1))
    assert np.all(np.diff(out) >= 0)
    assert out[0] == 0.0 and out[-1] == 1.0


def test_sigmoid_matches_the_formula_and_keeps_shape(reference):
    """Element-wise 1 / (1 + e^-x) on a 2-D array, to float64 precision."""
    x = np.random.default_rng(1).normal(0, 5, size=(4, 3))
    out = reference.sigmoid(x)
    assert isinstance(out, np.ndarray) and out.shape == (4, 3)
    np.testing.assert_allclose(out, plain_sigmoid(x), rtol=1e-12)


# ----------------------------------------------------------------------------- network


def lecture_forward(x, w1, w2):
    a1 = np.vstack([x, np.ones((1, 1))])
    a2 = np.vstack([plain_sigmoid(w1 @ a1), np.ones((1, 1))])
    return plain_sigmoid(w2 @ a2)


SIZES = [(784, 15, 10), (2, 1, 1), (5, 3, 4), (30, 7, 2)]


@pytest.mark.parametrize("sizes", SIZES, ids=[f"{a}-{b}-{c}" for a, b, c in SIZES])
def test_neural_network_shapes_and_values(reference, sizes):
    """Output (n_out, 1) equals the lecture's forward pass with the bias appended last."""
    n_in, n_hidden, n_out = sizes
    rng = np.random.default_rng(sum(sizes))
    x = rng.random((n_in, 1))
    w1 = rng.normal(0, 0.3, size=(n_hidden, n_in + 1))
    w2 = rng.normal(0, 1.0, size=(n_out, n_hidden + 1))
    out = reference.neural_network(x, w1, w2)
    assert isinstance(out, np.ndarray) and out.shape == (n_out, 1)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, lecture_forward(x, w1, w2), rtol=1e-12)
    pred = reference.predict(x, w1, w2)
    assert type(pred) is int and pred == int(np.argmax(out))


def test_bias_weights_are_the_last_columns(reference):
    """Only the last column of w1 and w2 matters when x = 0 and the other weights are 0."""
    x = np.zeros((784, 1))
    w1 = np.zeros((15, 785))
    w1[:, -1] = 3.0
    w2 = np.zeros((10, 16))
    w2[:, -1] = np.arange(10) - 4.5
    out = reference.neural_network(x, w1, w2)
    np.testing.assert_allclose(out[:, 0], plain_sigmoid(np.arange(10) - 4.5), rtol=1e-12)
    assert reference.predict(x, w1, w2) == 9


# ----------------------------------------------------------------------------- costs


def test_lecture_squared_error_example_is_1_58(reference):
    """The slide prints 1.67, but the squared error of its example is 1.58."""
    out = reference.mean_squared_error(LECTURE_PREDICTION, LECTURE_TARGET)
    assert isinstance(out, float)
    assert out == pytest.approx(1.58, abs=1e-12)
    assert out != pytest.approx(1.67, abs=1e-3)


COSTS = {
    "mean_squared_error": lambda yh, y: np.sum((yh - y) ** 2),
    "sigmoid_cross_entropy": lambda yh, y: np.sum(-y * np.log(yh) - (1 - y) * np.log(1 - yh)),
    "softmax_cross_entropy": lambda yh, y: np.sum(-y * np.log(yh)),
}


@pytest.mark.parametrize("name", list(COSTS), ids=list(COSTS))
def test_costs_are_sums_returned_as_float(reference, name):
    """Each cost is the slide's sum over the n outputs of one data point, as a float."""
    rng = np.random.default_rng(7)
    for n in (1, 3, 10):
        y_hat = rng.uniform(0.01, 0.99, size=(n, 1))
        y = np.eye(n)[:, [rng.integers(n)]]
        out = getattr(reference, name)(y_hat, y)
        assert isinstance(out, float)
        assert out == pytest.approx(COSTS[name](y_hat, y), rel=1e-12)


def test_softmax_is_finite_for_large_inputs(reference):
    """softmax of entries +-1000 is finite, sums to 1 and keeps the (n, 1) shape."""
    z = np.array([[1000.0], [999.0], [0.0], [-1000.0]])
    out = reference.softmax(z)
    assert out.shape == (4, 1)
    assert np.all(np.isfinite(out))
    assert out.sum() == pytest.approx(1.0)
    assert out[0, 0] == pytest.approx(1 / (1 + np.exp(-1.0)))
    small = np.array([[1.0], [2.0], [3.0]])
    np.testing.assert_allclose(reference.softmax(small), np.exp(small) / np.exp(small).sum())
