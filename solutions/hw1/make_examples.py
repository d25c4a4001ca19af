"""Build the bundled example submissions of HW1 from the student notebook.

    python solutions/hw1/make_examples.py

writes ``solutions/hw1/examples/`` (instructor-only: they include correct
code): one submission per naming scheme the grader accepts, of mixed quality,
used by ``make demo`` and by the project's tests (tests/autograder/test_examples.py
holds the per-question scores each must get).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
STUDENT = HERE.parent.parent / "assignments" / "hw1" / "hw1.ipynb"
OUT = HERE / "examples"

CORRECT = {
    "perceptron": '''
def perceptron(x1, x2, w):
    w0, w1, w2 = w
    return 1 if w0 + w1 * x1 + w2 * x2 >= 0 else 0
''',
    "AND_WEIGHTS": "AND_WEIGHTS = (-1.5, 1, 1)\nOR_WEIGHTS = (-0.5, 1.0, 1.0)\n",
    "xor": '''
def xor(x1, x2):
    hidden_or = perceptron(x1, x2, OR_WEIGHTS)
    hidden_nand = perceptron(x1, x2, (1.5, -1, -1))
    return perceptron(hidden_or, hidden_nand, AND_WEIGHTS)
''',
    "sigmoid": '''
def sigmoid(x):
    return 0.5 * (1 + np.tanh(np.asarray(x, dtype=float) / 2))
''',
    "neural_network": '''
def neural_network(x, w1, w2):
    a1 = np.vstack([x, [[1]]])
    a2 = np.vstack([sigmoid(w1 @ a1), [[1]]])
    return sigmoid(w2 @ a2)
''',
    "predict": '''
def predict(x, w1, w2):
    return int(np.argmax(neural_network(x, w1, w2)))
''',
    "mean_squared_error": '''
def mean_squared_error(y_hat, y):
    total = 0.0
    for a, b in zip(y_hat.ravel(), y.ravel()):
        total += (a - b) ** 2
    return total
''',
    "sigmoid_cross_entropy": '''
def sigmoid_cross_entropy(y_hat, y):
    p = np.clip(y_hat, 1e-12, 1 - 1e-12)
    return float(np.sum(-y * np.log(p) - (1 - y) * np.log(1 - p)))
''',
    "softmax": '''
def softmax(z):
    e = np.exp(z - np.max(z))
    return e / np.sum(e)
''',
    "softmax_cross_entropy": '''
def softmax_cross_entropy(y_hat, y):
    return float(-np.sum(y * np.log(y_hat)))
''',
}

PARTLY_WRONG = dict(CORRECT, neural_network='''
def neural_network(x, w1, w2):
    # bias unit first instead of last: not the lecture's layout
    a1 = np.concatenate([[[1]], x], 0)
    a2 = np.concatenate([[[1]], sigmoid(np.dot(w1, a1))], 0)
    return sigmoid(np.dot(w2, a2))
''', predict='''
def predict(x, w1, w2):
    return float(np.argmax(neural_network(x, w1, w2)))
''', mean_squared_error='''
def mean_squared_error(y_hat, y):
    return float(np.mean((y_hat - y) ** 2))  # a mean, not the slide's sum
''', softmax='''
def softmax(z):
    return np.exp(z) / np.sum(np.exp(z))  # overflows for large z
''')

BLACKBOARD_LATEST = dict(CORRECT, perceptron='''
def perceptron(x1, x2, w):
    return int(w[0] + w[1] * x1 + w[2] * x2 > 0)  # > instead of >=
''', sigmoid='''
import math

def sigmoid(x):
    if np.isscalar(x):
        return 1 / (1 + math.exp(-x))
    return [1 / (1 + math.exp(-v)) for v in np.ravel(x)]  # a list, not an ndarray
''', sigmoid_cross_entropy='''
def sigmoid_cross_entropy(y_hat, y):
    return float(np.sum(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat)))  # sign flipped
''')

MISSING_LAST = {k: v for k, v in CORRECT.items() if k != "softmax_cross_entropy"}


def filled(answers: dict[str, str], extra_cells: tuple[str, ...] = ()) -> nbformat.NotebookNode:
    """The student notebook with each skeleton cell replaced by an answer."""
    notebook = nbformat.read(STUDENT, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type != "code" or "raise NotImplementedError" not in cell.source \
                and "= ..." not in cell.source:
            continue
        for name, code in answers.items():
            if f"def {name}(" in cell.source or f"{name} = ..." in cell.source:
                cell.source = code.strip() + "\n"
                break
        else:
            if "raise NotImplementedError" in cell.source:
                cell.source = "# (not attempted)\n"
    for source in extra_cells:
        notebook.cells.append(nbformat.v4.new_code_cell(source))
    return notebook


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir()
    # <student_id>.ipynb: correct, written differently from the reference
    nbformat.write(filled(CORRECT, ("%%time\nprint(sigmoid(0.0))",)), OUT / "2023001.ipynb")
    # <student_id>/<any>.ipynb: partly wrong
    (OUT / "2023002").mkdir()
    nbformat.write(filled(PARTLY_WRONG), OUT / "2023002" / "homework1_final.ipynb")
    # Blackboard download: two attempts with receipts; the latest is graded
    stem = "HW1_Perceptrons_2023003_attempt_"
    nbformat.write(nbformat.read(STUDENT, as_version=4), OUT / f"{stem}2026-09-20-21-05-11_hw1.ipynb")
    latest = filled(BLACKBOARD_LATEST, ("!pip install torch", "print(undefined_name)"))
    nbformat.write(latest, OUT / f"{stem}2026-09-22-23-58-40_hw1.ipynb")
    for stamp in ("2026-09-20-21-05-11", "2026-09-22-23-58-40"):
        (OUT / f"{stem}{stamp}.txt").write_text(
            f"Name: Example Student (2023003)\nAssignment: HW1_Perceptrons\n"
            f"Date Submitted: {stamp}\nFiles:\n\tOriginal filename: hw1.ipynb\n")
    # untouched skeleton
    shutil.copy(STUDENT, OUT / "2023004.ipynb")
    # broken: cut off in the middle of the JSON
    (OUT / "2023005.ipynb").write_text(STUDENT.read_text()[:2000])
    # an nbformat v3 notebook (old Jupyter), one function missing
    v4 = filled(MISSING_LAST)
    v3 = nbformat.convert(v4, 3)
    (OUT / "2023006.ipynb").write_text(json.dumps(v3, indent=1))


if __name__ == "__main__":
    main()
