# GENERATED FILE - DO NOT EDIT. Reference solution of hw2, generated from
# solutions/hw2/hw2-master.ipynb by:
#     python solutions/build.py hw2
# (python solutions/build.py --check hw2 fails when this file is stale.)
# Instructor-only: never copy this file into assignments/.
"""Reference solution of hw2 (generated from the master notebook)."""

import numpy as np

__all__ = [
    "backward",
    "cross_entropy_loss",
    "forward",
    "numerical_gradient",
    "sgd_step",
    "sigmoid",
    "sigmoid_grad",
    "train",
]


def sigmoid(x):
    """HW1's logistic sigmoid 1 / (1 + exp(-x)), element-wise, without overflow."""
    s = np.exp(-np.logaddexp(0.0, -np.asarray(x, dtype=np.float64)))
    return float(s) if np.ndim(s) == 0 else s


def sigmoid_grad(z):
    """The derivative of the sigmoid, sigma(z) * (1 - sigma(z)), element-wise."""
    s = sigmoid(z)
    return s * (1.0 - s)


def forward(X, w1, w2):
    """Batch forward pass; returns {"a1", "z2", "a2", "z3", "a3"} (bias rows appended last)."""
    m = X.shape[1]
    a1 = np.vstack([X, np.ones((1, m))])
    z2 = w1 @ a1
    a2 = np.vstack([sigmoid(z2), np.ones((1, m))])
    z3 = w2 @ a2
    return {"a1": a1, "z2": z2, "a2": a2, "z3": z3, "a3": sigmoid(z3)}


def cross_entropy_loss(A3, Y):
    """Mean over the m columns of the sigmoid cross-entropy of each column; a float."""
    return float(np.mean(np.sum(-Y * np.log(A3) - (1 - Y) * np.log(1 - A3), axis=0)))


def backward(X, Y, w1, w2):
    """Gradients (dw1, dw2) of the batch loss with respect to w1 and w2."""
    cache = forward(X, w1, w2)
    m = X.shape[1]
    d3 = (cache["a3"] - Y) / m
    dw2 = d3 @ cache["a2"].T
    d2 = (w2[:, :-1].T @ d3) * sigmoid_grad(cache["z2"])
    dw1 = d2 @ cache["a1"].T
    return dw1, dw2


def numerical_gradient(f, w, h=1e-5):
    """Centred-difference gradient of the scalar function f at w (w is left unchanged)."""
    grad = np.zeros(w.shape)
    for i in np.ndindex(w.shape):
        old = w[i]
        w[i] = old + h
        plus = f(w)
        w[i] = old - h
        minus = f(w)
        w[i] = old
        grad[i] = (plus - minus) / (2 * h)
    return grad


def sgd_step(w, dw, lr):
    """One gradient-descent step, as a new array; w and dw are not modified."""
    return w - lr * dw


def train(X, Y, n_hidden, lr, epochs, batch_size, seed):
    """Mini-batch SGD on cross_entropy_loss from small random weights; returns (w1, w2)."""
    rng = np.random.default_rng(seed)
    n_in, m = X.shape
    n_out = Y.shape[0]
    w1 = rng.normal(0.0, 1.0 / np.sqrt(n_in + 1), (n_hidden, n_in + 1))
    w2 = rng.normal(0.0, 1.0 / np.sqrt(n_hidden + 1), (n_out, n_hidden + 1))
    for _ in range(epochs):
        order = rng.permutation(m)
        for start in range(0, m, batch_size):
            batch = order[start:start + batch_size]
            dw1, dw2 = backward(X[:, batch], Y[:, batch], w1, w2)
            w1 = sgd_step(w1, dw1, lr)
            w2 = sgd_step(w2, dw2, lr)
    return w1, w2
