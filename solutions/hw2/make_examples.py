"""Build the bundled example submissions of HW2 from the student notebook.

    python solutions/hw2/make_examples.py

writes ``solutions/hw2/examples/`` (instructor-only: they include correct code):
a correct submission written differently from the reference, and the typical
mistakes of the issue, each alone in an otherwise correct notebook, so each
loses exactly its own points. Student ids are the course's example roster
(``course/examples/roster.csv``), so ``make demo`` combines HW1 and HW2 per student. ``tests/autograder/test_examples_hw2.py`` holds
the per-question scores each must get, and why.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
STUDENT = HERE.parent.parent / "assignments" / "hw2" / "hw2.ipynb"
OUT = HERE / "examples"

CORRECT = {
    "sigmoid_grad": '''
def sigmoid_grad(z):
    e = np.exp(-np.abs(z))  # never overflows
    return e / (1.0 + e) ** 2
''',
    "forward": '''
def forward(X, w1, w2):
    ones = np.ones((1, X.shape[1]))
    a1 = np.concatenate([X, ones], axis=0)
    z2 = np.dot(w1, a1)
    a2 = np.concatenate([sigmoid(z2), ones], axis=0)
    z3 = np.dot(w2, a2)
    a3 = sigmoid(z3)
    return dict(a1=a1, z2=z2, a2=a2, z3=z3, a3=a3)
''',
    "cross_entropy_loss": '''
def cross_entropy_loss(A3, Y):
    m = A3.shape[1]
    total = 0.0
    for j in range(m):
        a, y = A3[:, j], Y[:, j]
        total += np.sum(-y * np.log(a) - (1 - y) * np.log(1 - a))
    return total / m
''',
    "backward": '''
def backward(X, Y, w1, w2):
    out = forward(X, w1, w2)
    delta3 = (out["a3"] - Y) / X.shape[1]
    dw2 = np.einsum("im,jm->ij", delta3, out["a2"])
    s = sigmoid(out["z2"])
    delta2 = (w2.T @ delta3)[:-1] * s * (1 - s)
    dw1 = np.einsum("im,jm->ij", delta2, out["a1"])
    return dw1, dw2
''',
    "numerical_gradient": '''
def numerical_gradient(f, w, h=1e-5):
    grad = np.zeros_like(w, dtype=float)
    flat = grad.reshape(-1)
    for i in range(w.size):
        step = np.zeros(w.size)
        step[i] = h
        step = step.reshape(w.shape)
        flat[i] = (f(w + step) - f(w - step)) / (2 * h)
    return grad
''',
    "sgd_step": '''
def sgd_step(w, dw, lr):
    new_w = w.copy()
    new_w -= lr * dw
    return new_w
''',
    "train": '''
def train(X, Y, n_hidden, lr, epochs, batch_size, seed):
    rng = np.random.default_rng(seed)
    n_in, m = X.shape
    limit1, limit2 = np.sqrt(3 / (n_in + 1)), np.sqrt(3 / (n_hidden + 1))
    w1 = rng.uniform(-limit1, limit1, (n_hidden, n_in + 1))
    w2 = rng.uniform(-limit2, limit2, (Y.shape[0], n_hidden + 1))
    for epoch in range(epochs):
        shuffled = rng.permutation(m)
        batches = [shuffled[k:k + batch_size] for k in range(0, m, batch_size)]
        for batch in batches:
            dw1, dw2 = backward(X[:, batch], Y[:, batch], w1, w2)
            w1, w2 = sgd_step(w1, dw1, lr), sgd_step(w2, dw2, lr)
    return (w1, w2)
''',
}

MISTAKES = {
    # dw1 comes out transposed; train transposes it back, so only `backward` is wrong
    "2023002": {"backward": '''
def backward(X, Y, w1, w2):
    c = forward(X, w1, w2)
    d3 = (c["a3"] - Y) / X.shape[1]
    dw2 = d3 @ c["a2"].T
    d2 = (w2[:, :-1].T @ d3) * sigmoid_grad(c["z2"])
    dw1 = c["a1"] @ d2.T
    return dw1, dw2
''', "train": CORRECT["train"].replace("sgd_step(w1, dw1, lr)", "sgd_step(w1, dw1.T, lr)")},
    # a2 without its bias row (the bias is added separately): the forward dict is wrong
    "2023003": {"forward": '''
def forward(X, w1, w2):
    a1 = np.vstack([X, np.ones((1, X.shape[1]))])
    z2 = w1 @ a1
    a2 = sigmoid(z2)
    z3 = w2[:, :-1] @ a2 + w2[:, -1:]
    return {"a1": a1, "z2": z2, "a2": a2, "z3": z3, "a3": sigmoid(z3)}
''', "backward": '''
def backward(X, Y, w1, w2):
    c = forward(X, w1, w2)
    a2 = np.vstack([c["a2"], np.ones((1, X.shape[1]))])
    d3 = (c["a3"] - Y) / X.shape[1]
    d2 = (w2[:, :-1].T @ d3) * sigmoid_grad(c["z2"])
    return d2 @ c["a1"].T, d3 @ a2.T
'''},
    # a one-sided difference
    "2023004": {"numerical_gradient": '''
def numerical_gradient(f, w, h=1e-5):
    grad = np.zeros(w.shape)
    base = f(w)
    for i in np.ndindex(w.shape):
        w_plus = w.copy()
        w_plus[i] += h
        grad[i] = (f(w_plus) - base) / h
    return grad
'''},
    # w modified in place and never put back
    "2023005": {"numerical_gradient": '''
def numerical_gradient(f, w, h=1e-5):
    grad = np.zeros(w.shape)
    for i in np.ndindex(w.shape):
        w[i] += h
        plus = f(w)
        w[i] -= 2 * h
        minus = f(w)
        grad[i] = (plus - minus) / (2 * h)
    return grad
'''},
    # sgd_step changes the caller's array
    "2023006": {"sgd_step": '''
def sgd_step(w, dw, lr):
    w -= lr * dw
    return w
'''},
    # training that never improves: the step's result is thrown away
    "2023007": {"train": CORRECT["train"].replace(
        "w1, w2 = sgd_step(w1, dw1, lr), sgd_step(w2, dw2, lr)",
        "sgd_step(w1, dw1, lr)\n            sgd_step(w2, dw2, lr)")},
    # training far too slow: gradients by numerical differences (passes the small check)
    "2023008": {"train": CORRECT["train"].replace(
        "dw1, dw2 = backward(X[:, batch], Y[:, batch], w1, w2)",
        "Xb, Yb = X[:, batch], Y[:, batch]\n"
        "            dw1 = numerical_gradient(\n"
        "                lambda v: cross_entropy_loss(forward(Xb, v, w2)['a3'], Yb), w1)\n"
        "            dw2 = numerical_gradient(\n"
        "                lambda v: cross_entropy_loss(forward(Xb, w1, v)['a3'], Yb), w2)")},
}


def filled(answers: dict[str, str]) -> nbformat.NotebookNode:
    """The student notebook with each skeleton cell replaced by an answer."""
    notebook = nbformat.read(STUDENT, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type != "code" or "raise NotImplementedError" not in cell.source:
            continue
        for name, code in answers.items():
            if f"def {name}(" in cell.source:
                cell.source = code.strip() + "\n"
                break
    return notebook


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir()
    nbformat.write(filled(CORRECT), OUT / "2023001.ipynb")
    for student, changes in MISTAKES.items():
        for name, code in changes.items():
            if code == CORRECT.get(name):
                raise SystemExit(f"{student}: {name} is unchanged")
        nbformat.write(filled({**CORRECT, **changes}), OUT / f"{student}.ipynb")


if __name__ == "__main__":
    main()
