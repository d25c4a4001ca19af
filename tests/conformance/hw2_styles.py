"""Correct HW2 solutions written in real students' styles (each must score 100/100).

Round 3's habits on the reference solution: a progress bar in ``train``
(``pbar = tqdm(...)``, ``pbar.set_postfix(loss=...)``), the *Deep Learning from
Scratch* import after the answers, a leftover ``breakpoint()``.
``python tests/conformance/hw2_styles.py DIR`` writes them as ``<style>.ipynb``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

REFERENCE = Path(__file__).resolve().parents[2] / "solutions" / "hw2" / "reference.py"
IMPORTS = "import numpy as np"
EPOCHS = "    for _ in range(epochs):\n"
PBAR = ("    pbar = tqdm(range(epochs), desc='train', leave=False)\n"
        "    for _ in pbar:\n")
POSTFIX = "            w2 = sgd_step(w2, dw2, lr)\n"


def reference_cells() -> list[str]:
    text = REFERENCE.read_text()
    text = text[text.index("def sigmoid"):]
    return [chunk.strip() for chunk in re.split(r"\n\n\n(?=def )", text) if chunk.strip()]


def with_progress_bar(cell: str, module: str) -> str:
    if not cell.startswith("def train"):
        return cell
    assert EPOCHS in cell and POSTFIX in cell
    loss = ("        pbar.set_postfix(loss=cross_entropy_loss(forward(X[:, batch], w1, w2)"
            "['a3'], Y[:, batch]))\n")
    return f"from {module} import tqdm\n\n" + cell.replace(EPOCHS, PBAR).replace(
        POSTFIX, POSTFIX + loss)


def styles() -> dict[str, list[str]]:
    body = reference_cells()
    return {
        "tqdm-pbar": [IMPORTS, *[with_progress_bar(c, "tqdm") for c in body]],
        "tqdm-notebook-pbar": [f"%matplotlib inline\n{IMPORTS}",
                               *[with_progress_bar(c, "tqdm.notebook") for c in body]],
        "dlfs-late-import": [
            IMPORTS, *body,
            ("import sys, os\nsys.path.append(os.pardir)\n"
             "from common.functions import sigmoid, softmax, cross_entropy_error\n"
             "from common.gradient import numerical_gradient"),
        ],
        "breakpoint-left": [IMPORTS, *[c.replace("    cache = forward(X, w1, w2)\n",
                                                 "    cache = forward(X, w1, w2)\n    breakpoint()\n")
                                       for c in body]],
    }


def write(folder: Path) -> list[Path]:
    from conformance_notebooks import write as write_notebooks

    return write_notebooks(folder, styles())


if __name__ == "__main__":
    for written in write(Path(sys.argv[1])):
        print(written)
