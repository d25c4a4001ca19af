"""Correct HW1 solutions written in real students' styles (each must score 100/100).

Each style keeps the reference solution's functions and adds a habit that
Jupyter or Colab accepts: magics on the first line of the import cell, a Colab
header, imports of modules the grader lacks, ``np.matrix`` return values,
shell escapes, ``input()``, ``display``, timing magics, Korean comments, a cell
that raises. ``python tests/conformance/hw1_styles.py DIR`` writes them as
``<style>.ipynb`` (graded under the id ``<style>``).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

REFERENCE = Path(__file__).resolve().parents[2] / "solutions" / "hw1" / "reference.py"
IMPORTS = "import numpy as np"


def reference_cells() -> list[str]:
    """The reference's functions, one cell per definition, without ``import numpy``."""
    text = REFERENCE.read_text()
    text = text[text.index("def perceptron"):]
    return [chunk.strip() for chunk in re.split(r"\n\n\n(?=def |# )", text) if chunk.strip()]


def _matrix_forward(cells: list[str]) -> list[str]:
    """neural_network returns an np.matrix (numerically right); softmax an (n, 1) matrix."""
    out = []
    for cell in cells:
        if cell.startswith("def neural_network"):
            cell = cell.replace("    return a3", "    return np.matrix(a3)")
        if cell.startswith("def softmax(z)"):
            cell = cell.replace("    return e / np.sum(e)", "    return np.asmatrix(e / np.sum(e))")
        out.append(cell)
    return out


def styles() -> dict[str, list[str]]:
    body = reference_cells()
    colab = ("from google.colab import drive\ndrive.mount('/content/drive')\n"
             "%cd /content/drive/MyDrive/COSE474/hw1")
    return {
        "magics-first-line": [
            f"%matplotlib inline\n{IMPORTS}\nimport matplotlib.pyplot as plt", *body,
            "xs = np.linspace(-6, 6, 50)\nplt.plot(xs, sigmoid(xs))\nplt.grid(True)\nplt.show()",
        ],
        "retina-config": [
            (f"%matplotlib inline\n%config InlineBackend.figure_format='retina'\n%load_ext autoreload\n"
            f"%autoreload 2\n{IMPORTS}\nimport matplotlib.pyplot as plt"), *body,
        ],
        "colab-header": [colab, "!pip install -q otter-grader", IMPORTS, *body],
        "colab-one-cell": [(f"{colab}\n{IMPORTS}\nimport matplotlib.pyplot as plt\n"
                           "%matplotlib inline"), *body],
        "missing-imports": [
            (f"import h5py\nimport torch\nimport torch.nn as nn\nfrom lr_utils import load_dataset\n"
            f"from tqdm import tqdm\n{IMPORTS}\nimport matplotlib.pyplot as plt"),
            *body,
            ("costs = []\nfor epoch in tqdm(range(3)):\n    costs.append(mean_squared_error("
            "np.ones((2, 1)), np.zeros((2, 1))))\nprint(costs)"),
        ],
        "np-matrix": [IMPORTS, *_matrix_forward(body)],
        "korean-input-display": [
            f"# 필요한 라이브러리 불러오기\n{IMPORTS}\nimport pandas as pd",
            "이름 = input('이름을 입력하세요: ')",
            *[f"# 문제 풀이\n{cell}" for cell in body],
            ("결과 = pd.DataFrame({'입력': [0.0, 1.0], '시그모이드': [sigmoid(0.0), sigmoid(1.0)]})\n"
            "display(결과)\n결과"),
            "%timeit sigmoid(np.zeros((10, 1)))",
            "%%capture\nprint('숨겨진 출력')",
            "print('디버깅:', undefined_variable)",
        ],
        # round 3 (issue 25)
        "dlfs-late-import": [
            IMPORTS, *body,
            ("# MNIST 실습 (밑바닥부터 시작하는 딥러닝)\nimport sys, os\nsys.path.append(os.pardir)\n"
             "from common.functions import sigmoid, softmax\nfrom dataset.mnist import load_mnist"),
        ],
        "breakpoint-left": [IMPORTS, *[cell.replace("    a2 = sigmoid(z2)\n",
                                                    "    breakpoint()\n    a2 = sigmoid(z2)\n")
                                       for cell in body]],
        "d2l-data-exit": [
            ("import os\nos.makedirs(os.path.join('..', 'data'), exist_ok=True)\n"
             "data_file = os.path.join('..', 'data', 'house_tiny.csv')\n"
             "with open(data_file, 'w') as f:\n    f.write('NumRooms,Alley,Price\\n')\n"
             "    f.write('NA,Pave,127500\\n')"),
            f"import pandas as pd\n{IMPORTS}\ndata = pd.read_csv(data_file)", *body, "exit()",
        ],
        "vscode-percent-cells": [
            f"# %%\n{IMPORTS}\n\n# %% [markdown]\n# # HW1\n\n# %%\n" + "\n\n\n# %%\n".join(body),
        ],
        "shell-cells": [
            "%%bash\npip install numpy\nnvidia-smi",
            f"%pip install -q numpy\n%matplotlib widget\n{IMPORTS}",
            *body,
            "!jupyter nbconvert --to html hw1.ipynb",
        ],
    }


def write(folder: Path) -> list[Path]:
    """The styles as ``folder/NAME.ipynb`` (one writer with the conformance notebooks)."""
    from conformance_notebooks import write as write_notebooks

    return write_notebooks(folder, styles())

if __name__ == "__main__":
    for written in write(Path(sys.argv[1])):
        print(written)
