# GENERATED FILE - DO NOT EDIT. Reference solution of hw1, generated from
# solutions/hw1/hw1-master.ipynb by:
#     python solutions/build.py hw1
# (python solutions/build.py --check hw1 fails when this file is stale.)
# Instructor-only: never copy this file into assignments/.
"""Reference solution of hw1 (generated from the master notebook)."""

import numpy as np

__all__ = [
    "AND_WEIGHTS",
    "OR_WEIGHTS",
    "mean_squared_error",
    "neural_network",
    "perceptron",
    "predict",
    "sigmoid",
    "sigmoid_cross_entropy",
    "softmax",
    "softmax_cross_entropy",
    "xor",
]


def perceptron(x1, x2, w):
    """Single-layer perceptron with a hard threshold.

    w = (w0, w1, w2); w0 is the weight of the bias input 1.
    Returns the int 1 if w0 + w1*x1 + w2*x2 >= 0, else the int 0.
    """
    w0, w1, w2 = w
    return 1 if w0 + w1 * x1 + w2 * x2 >= 0 else 0


# (w0, w1, w2) such that perceptron(x1, x2, AND_WEIGHTS) == x1 AND x2
AND_WEIGHTS = (-1.5, 1, 1)
# (w0, w1, w2) such that perceptron(x1, x2, OR_WEIGHTS) == x1 OR x2
OR_WEIGHTS = (-0.5, 1, 1)


def xor(x1, x2):
    """XOR of two bits, computed by a 2-layer perceptron network.

    Hidden layer: an OR unit and a NAND unit on (x1, x2); output layer: an AND unit on their
    outputs. Returns the int 1 or 0.
    """
    h_or = perceptron(x1, x2, OR_WEIGHTS)
    h_nand = perceptron(x1, x2, (1.5, -1, -1))
    return perceptron(h_or, h_nand, AND_WEIGHTS)


def sigmoid(x):
    """Element-wise logistic sigmoid 1 / (1 + exp(-x)).

    A scalar gives a float; an ndarray gives an ndarray of the same shape.
    """
    # exp(-log(1 + exp(-x))) == 1 / (1 + exp(-x)), without overflow for any x
    s = np.exp(-np.logaddexp(0.0, -np.asarray(x, dtype=np.float64)))
    return float(s) if np.ndim(s) == 0 else s


def neural_network(x, w1, w2):
    """Forward pass of the lecture's 2-layer network, bias appended last in each layer.

    x: (n_in, 1), w1: (n_hidden, n_in + 1), w2: (n_out, n_hidden + 1) -> returns (n_out, 1).
    """
    x, w1, w2 = (np.asarray(a, dtype=np.float64) for a in (x, w1, w2))
    a1 = np.concatenate([x, [[1]]], 0)
    z2 = np.dot(w1, a1)
    a2 = sigmoid(z2)
    a2 = np.concatenate([a2, [[1]]], 0)
    z3 = np.dot(w2, a2)
    a3 = sigmoid(z3)
    return a3


def predict(x, w1, w2):
    """The predicted class: the int index of the largest output of neural_network(x, w1, w2)."""
    return int(np.argmax(neural_network(x, w1, w2)))


def mean_squared_error(y_hat, y):
    """Sum over the n outputs of (y_hat_i - y_i)**2; y_hat, y: (n, 1). Returns a float."""
    return float(np.sum((np.asarray(y_hat) - np.asarray(y)) ** 2))


def sigmoid_cross_entropy(y_hat, y):
    """Sum over i of -y_i log(y_hat_i) - (1 - y_i) log(1 - y_hat_i); y_hat, y: (n, 1). A float."""
    y_hat, y = np.asarray(y_hat, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return float(np.sum(-y * np.log(y_hat) - (1 - y) * np.log(1 - y_hat)))


def softmax(z):
    """Softmax of a column vector z of shape (n, 1); returns shape (n, 1), finite for large |z|."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - np.max(z))
    return e / np.sum(e)


def softmax_cross_entropy(y_hat, y):
    """Sum over i of -y_i log(y_hat_i); y_hat (probabilities), y: (n, 1). Returns a float."""
    y_hat, y = np.asarray(y_hat, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return float(np.sum(-y * np.log(y_hat)))
