"""Build the bundled example submissions of HW1 from the student notebook.

    python solutions/hw1/make_examples.py

writes ``solutions/hw1/examples/`` (instructor-only: they include correct
code): one submission per naming scheme the grader accepts, of mixed quality,
Blackboard's receipts in its real format (a comment-only later attempt, an otter
export zip, underscore usernames, a BOM, a late submission with and without an
extension: ``solutions/hw1/extensions.csv``), used by ``make demo`` and by the project's tests (tests/autograder/test_examples.py
holds the per-question scores each must get).
"""

from __future__ import annotations

import io
import json
import shutil
import zipfile
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


FIXED_TIME = (2026, 9, 25, 13, 0, 0)
NO_TEXT = "There is no student submission text data for this assignment."
NO_COMMENTS = "There are no student comments for this assignment."


def attempt(username: str, stamp: str, date: str, original: str | None, *, name: str,
            comments: str = "", text: str = "", bom: bool = False) -> Path:
    """Write one Blackboard attempt's receipt; return the path its attached file goes to."""
    prefix = f"HW1_Perceptrons_{username}_attempt_{stamp}"
    stored = f"{prefix}_{original}" if original else ""
    files = (f"\tOriginal filename: {original}\n\tFilename: {stored}" if original
             else "No files were attached to this submission.")
    receipt = (f"Name: {name} ({username})\nAssignment: HW1_Perceptrons\n"
               f"Date Submitted: {date}\nCurrent Grade: Needs Grading\n\n"
               f"Submission Field:\n{text or NO_TEXT}\n\nComments:\n{comments or NO_COMMENTS}"
               f"\n\nFiles:\n{files}\n")
    if bom:
        receipt = "\ufeff" + receipt.replace("\n", "\r\n")
    (OUT / f"{prefix}.txt").write_bytes(receipt.encode("utf-8"))
    return OUT / stored


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir()
    # <student_id>.ipynb: correct, written differently from the reference
    nbformat.write(filled(CORRECT, ("%%time\nprint(sigmoid(0.0))",)), OUT / "2023001.ipynb")
    # <student_id>/<any>.ipynb: partly wrong
    (OUT / "2023002").mkdir()
    nbformat.write(filled(PARTLY_WRONG), OUT / "2023002" / "homework1_final.ipynb")
    # Blackboard download ("Assignment File Download"), receipts as Blackboard writes them.
    # 2023003: two attempts with notebooks, then a comment-only attempt: the second is graded.
    nbformat.write(nbformat.read(STUDENT, as_version=4),
                   attempt("2023003", "2026-09-20-21-05-11", "Sunday, September 20, 2026 "
                           "9:05:11 PM KST", "hw1.ipynb", name="Park Jiho"))
    latest = filled(BLACKBOARD_LATEST, ("!pip install torch", "print(undefined_name)"))
    nbformat.write(latest, attempt("2023003", "2026-09-22-23-58-40", "Tuesday, September 22, "
                                   "2026 11:58:40 PM KST", "hw1.ipynb", name="Park Jiho"))
    attempt("2023003", "2026-09-24-09-10-00", "Thursday, September 24, 2026 9:10:00 AM KST",
            None, name="Park Jiho", comments="I worked with 2023101 on the XOR part.")
    # kim_mj: an underscore username, otter's grader.export() zip, a receipt saved with a
    # BOM and CRLF, handed in two days after the deadline (demo: 2026-09-23T23:59+09:00).
    export = io.BytesIO()
    with zipfile.ZipFile(export, "w") as archive:
        archive.writestr(zipfile.ZipInfo("hw1.ipynb", FIXED_TIME),
                         nbformat.writes(filled(CORRECT)))
        archive.writestr(zipfile.ZipInfo(".OTTER_LOG", FIXED_TIME), b"\x80\x04log")
    attempt("kim_mj", "2026-09-25-13-00-00", "Friday, September 25, 2026 1:00:00 PM KST",
            "hw1_2026_09_25T13_00_00_000000.zip", name="Kim Minjun", bom=True
            ).write_bytes(export.getvalue())
    # lee_sy_2: a UK-locale receipt, one day late but with an extension (extensions.csv)
    nbformat.write(filled(MISSING_LAST),
                   attempt("lee_sy_2", "2026-09-24-18-30-00", "Thursday, 24 September 2026 "
                           "18:30:00 o'clock KST", "Homework 1 (1).ipynb", name="Lee Seoyeon",
                           text="Extension granted by email on 9/22."))
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
