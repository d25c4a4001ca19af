"""Notebooks in real students' styles, and the documented differences of grading.

``NOTEBOOKS`` maps a name to the sources of its code cells. They are written the
way students of deep-learning courses write (Colab headers, magics on the first
line of the import cell, modules the grader lacks, shell escapes, plots,
``display``, ``input``, Korean text, a cell that raises...). None needs a data
file or the network.

``as_graded(source)`` is the cell as grading documents it runs: the differences of
docs/jupyter-differences.md applied by plain text rules, independently of the
worker's code. The conformance test runs this version in a real Jupyter kernel
(the student's environment had the packages the grader lacks, and no one wants
``pip`` to run in a test) and compares the worker, which runs the original.

``python tests/conformance/conformance_notebooks.py DIR`` writes them as ``.ipynb``
files (nbformat) to look at or to try by hand.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

COLAB = "from google.colab import drive\ndrive.mount('/content/drive')"
NOTEBOOKS: dict[str, list[str]] = {
    "colab-header": [
        COLAB,
        "%cd /content/drive/MyDrive/DL/hw1",
        "import numpy as np\nprint('numpy', np.__name__)",
        "x = np.arange(6).reshape(2, 3)\nprint(x.sum(axis=0))",
    ],
    "colab-files-upload": [
        "from google.colab import files\nuploaded = files.upload()\nprint('uploaded', len(uploaded))",
        "import numpy as np\nprint(np.ones(2))",
    ],
    "colab-tf-version": [
        "%tensorflow_version 2.x\nimport numpy as np\nprint('tf magic skipped', np.pi > 3)",
    ],
    "matplotlib-inline-first-line": [
        "%matplotlib inline\nimport numpy as np\nimport matplotlib.pyplot as plt\nprint('imports ok')",
        ("xs = np.linspace(-5, 5, 11)\nplt.plot(xs, 1 / (1 + np.exp(-xs)))\nplt.title('sigmoid')\n"
        "plt.show()\nprint(round(float(xs[3]), 2))"),
    ],
    "retina": [
        ("%matplotlib inline\n%config InlineBackend.figure_format = 'retina'\n"
        "import matplotlib.pyplot as plt\nimport numpy as np\nprint('retina')"),
        ("fig, axes = plt.subplots(2, 3, figsize=(6, 4))\nfor i, ax in enumerate(axes.flat):\n"
        "    ax.imshow(np.eye(4) * i)\n    ax.axis('off')\nplt.tight_layout()\nplt.show()\nprint(len(fig.axes))"),
    ],
    "svg-formats": [
        ("%config InlineBackend.figure_formats = ['svg']\nimport matplotlib.pyplot as plt\n"
        "plt.figure()\nplt.plot([1, 2, 3])\nprint('svg')"),
    ],
    "matplotlib-notebook": [
        "%matplotlib notebook\nimport matplotlib.pyplot as plt\nplt.plot([3, 1, 2])\nprint('nbagg')",
    ],
    "matplotlib-widget": [
        "%matplotlib widget\nimport matplotlib.pyplot as plt\nfig = plt.figure()\nprint('widget')",
    ],
    "missing-modules": [
        ("import numpy as np\nimport h5py\nimport scipy\nfrom lr_utils import load_dataset\n"
        "print('after the imports', np.zeros(2))"),
        "def sigmoid(z):\n    return 1 / (1 + np.exp(-z))\nprint(sigmoid(0))",
    ],
    "torch-tensorflow": [
        ("import numpy as np\nimport torch\nimport torch.nn as nn\nimport tensorflow as tf\n"
        "from tensorflow.keras import layers\nprint('numpy still here', np.sqrt(16))"),
    ],
    "import-fallback": [
        ("try:\n    import torch\n    backend = 'torch'\nexcept ImportError:\n    backend = 'numpy'\n"
        "print(backend)"),
    ],
    "tqdm-loop": [
        ("from tqdm import tqdm\nfrom tqdm.notebook import trange\ntotal = 0\n"
        "for i in tqdm(range(5)):\n    total += i\nfor j in trange(3):\n    total += j\nprint(total)"),
    ],
    "pip-install": [
        "!pip install -q h5py tqdm\nimport numpy as np\nprint('after pip', np.__name__)",
        "!nvidia-smi\n!ls -al\nprint('after shell')",
    ],
    "percent-pip": [
        "%pip install numpy==1.26\n%conda install -y scipy\nprint('after %pip')",
    ],
    "bash-cell": [
        "%%bash\necho hello from bash\nls",
        "%%sh\npwd",
        "print('cells after %%bash run')",
    ],
    "shell-capture": [
        "files = !ls\nprint(type(files).__name__ in ('SList', 'list'))",
    ],
    "timeit": [
        "%timeit -n 5 sum(range(100))\nprint('after timeit')",
        "%time total = sum(range(10_000))\nprint(total)",
        "%%time\nacc = 0\nfor k in range(1000):\n    acc += k\nprint(acc)",
    ],
    "capture": [
        "%%capture\nprint('this is hidden')\nimport numpy as np",
        "%%capture captured\nprint('kept in a variable')",
        "print(captured.stdout.strip())\nprint(np.arange(3))",
    ],
    "display-dataframe": [
        ("import pandas as pd\ndf = pd.DataFrame({'epoch': [1, 2, 3], 'loss': [0.9, 0.5, 0.25]})\n"
        "display(df)\ndf.describe()"),
        "print(df.shape)\nprint(df['loss'].min())\ndf.head(2)",
    ],
    "display-rich": [
        ("from IPython.display import display, HTML, Markdown, Math, clear_output\n"
        "display(HTML('<b>bold</b>'))\ndisplay(Markdown('# title'))\ndisplay(Math('x^2'))\n"
        "clear_output(wait=True)\nprint('rich outputs')"),
        "import numpy as np\nnp.eye(2)",
    ],
    "input": [
        "print('before input')",
        "name = input('이름을 입력하세요: ')\nprint(name)",
        "print('the next cell runs')",
    ],
    "getpass": [
        "import getpass\npassword = getpass.getpass()",
        "print('after getpass')",
    ],
    "korean": [
        ("# 한국어 주석: 시그모이드 함수\nimport numpy as np\n\ndef 시그모이드(x):\n"
        "    return 1 / (1 + np.exp(-x))\n\nprint('결과:', 시그모이드(0.0))"),
        "메시지 = f'정확도는 {97.5:.1f}% 입니다'\nprint(메시지)",
    ],
    "raises": [
        "import numpy as np\nprint('first')",
        "print('before the error')\n1 / 0\nprint('never')",
        "print('after the error cell')",
        "raise ValueError('학생의 오류')",
        "print('still running')",
    ],
    "autoreload": [
        "%load_ext autoreload\n%autoreload 2\nimport numpy as np\nprint('autoreload on')",
    ],
    "get-ipython": [
        ("ip = get_ipython()\nprint(ip is not None)\nip.run_line_magic('matplotlib', 'inline')\n"
        "print('magic via get_ipython')"),
        "get_ipython().run_cell_magic('capture', '', 'print(1)')\nprint('done')",
    ],
    "writefile-module": [
        "%%writefile my_utils.py\ndef double(x):\n    return 2 * x",
        "import my_utils\nprint(my_utils.double(21))",
    ],
    "env-and-who": [
        "%env MY_FLAG=1\nimport os\nprint(os.environ['MY_FLAG'])",
        "alpha = 1\nbeta = 'b'\n%who str",
    ],
    "help-pager": [
        "import numpy as np\nnp.mean?",
        "len??\nprint('after help')",
    ],
    "seeded-random": [
        "import numpy as np\nnp.random.seed(474)\nprint(np.random.rand(3).round(4))",
        "rng = np.random.default_rng(0)\nprint(rng.integers(0, 10, 5))",
    ],
    "prints-and-streams": [
        ("import sys\nprint('a', 'b', sep='-', end='!\\n')\nsys.stdout.write('written\\n')\n"
        "print('flushed', flush=True)"),
        "for i in range(3):\n    print(f'epoch {i}: loss={1 / (i + 1):.3f}')",
        "import warnings\nwarnings.warn('a warning goes to stderr')\nprint('after warning')",
    ],
    "last-expression": [
        "x = 5\nx",
        "[1, 2, 3]",
        "print('only this is stdout')\n{'a': 1}",
    ],
    "classes-and-main": [
        ("class Layer:\n    def __init__(self, n):\n        self.n = n\n    def __repr__(self):\n"
        "        return f'Layer({self.n})'\n\nprint(Layer(3))"),
        "if __name__ == '__main__':\n    print('main block runs')",
    ],
    "pylab-deprecated": [
        "%pylab inline\nprint('pylab')",
    ],
    "scipy": [
        "from scipy.special import expit\nprint(expit(0.0))",
    ],
    "cd-and-chdir": [
        "%cd /content\nimport os\nprint('cd skipped')",
    ],
    # round 3 (issue 25)
    "dlfs-late-import": [
        "import numpy as np\ndef sigmoid(x):\n    return 1 / (1 + np.exp(-x))",
        "from common.functions import sigmoid, softmax\nprint('the book: not reached')",
        "print(sigmoid(0.0))\nimport h5py\nprint('a fresh name gets a stand-in')",
    ],
    "breakpoint-left": [
        "def f(x):\n    breakpoint()\n    return x + 1\nprint(f(1))",
        "import pdb\nprint(f(2))",
        "def g(x):\n    pdb.set_trace()\n    return x\nprint(g(3))",
        "print('the next cell runs')",
    ],
    "exit-quit": [
        "x = 41",
        "print('a')\nexit()\nprint('b')",
        "quit()",
        "exit(keep_kernel=True)\nprint(x + 1)",
    ],
    "tqdm-objects": [
        ("from tqdm import tqdm, trange\nfrom tqdm.auto import tqdm as auto_tqdm\n"
         "from tqdm.notebook import tqdm as nb_tqdm\n"
         "pbar = tqdm(range(4), desc='epochs')\ntotal = 0\nfor i in pbar:\n    total += i\n"
         "    pbar.set_postfix(loss=1.0 / (i + 1))\npbar.close()\n"
         "with tqdm(total=3) as p:\n    for _ in range(3):\n        p.update(1)\n"
         "for _ in trange(2, leave=False):\n    total += 1\n"
         "for _ in auto_tqdm(range(2)):\n    total += 1\n"
         "for _ in nb_tqdm(range(2)):\n    total += 1\nprint(total)"),
    ],
    "colab-chdir-load-ext": [
        ("from google.colab import drive\ndrive.mount('/content/drive')\nimport os\n"
         "os.chdir('/content/drive/MyDrive/COSE474/hw1')\n%load_ext tensorboard\n"
         "import numpy as np\nprint('imports after the folder cell', np.e > 2)"),
        "os.chdir('/no/such/folder')",
        "print('still here')",
    ],
    "d2l-data-cell": [
        ("import os\nos.makedirs(os.path.join('..', 'data'), exist_ok=True)\n"
         "data_file = os.path.join('..', 'data', 'house_tiny.csv')\n"
         "with open(data_file, 'w') as f:\n    f.write('NumRooms,Alley,Price\\n')\n"
         "    f.write('NA,Pave,127500\\n')\n    f.write('2,NA,106000\\n')"),
        "import pandas as pd\ndata = pd.read_csv(data_file)\nprint(data.shape)",
    ],
}
# The notebook-level differences a cell has (checked: the worker records a note for them).
MISSING_CALLS = re.compile(r"^\s*(drive\.mount|files\.upload)\(.*$")
UPLOAD_ASSIGN = re.compile(r"^(\s*\w+\s*=\s*)files\.upload\(.*$")
SHELL_LINE = re.compile(r"^\s*!")
SHELL_ASSIGN = re.compile(r"^(\s*\w+\s*=\s*)!.*$")
SHELL_MAGIC_LINE = re.compile(r"^\s*%(pip|conda|mamba|sx|system)\b")
SHELL_CELL = re.compile(r"^%%(bash|sh|script|shell|system|sx)\b")
MPL_GUI = re.compile(r"^(\s*)%matplotlib\s+(notebook|widget|ipympl|qt\w*|tk|gtk\w*|wx|osx)\b.*$")
COLAB_MAGIC = re.compile(r"^\s*%tensorflow_version\b")
CD = re.compile(r"^\s*%cd\s+(.+)$")
CHDIR = re.compile(r"^\s*os\.chdir\(['\"]((?:/content|/gdrive|/kaggle)[^'\"]*)['\"]\)\s*$")
LOAD_EXT = re.compile(r"^\s*%(?:re)?load_ext\s+([\w.]+)\s*$")
EXIT = re.compile(r"^\s*(exit|quit)\(.*\)\s*$")
DEFINED = re.compile(r"^(?:def|class)\s+(\w+)|^(\w+)\s*=(?!=)", re.MULTILINE)
IMPORT = re.compile(r"^(?:import\s+([\w.]+)|from\s+([\w.]+)\s+import\s+(.+))")
WRITTEN_BY_THE_NOTEBOOKS = {"my_utils"}  # %%writefile my_utils.py, then import my_utils
TQDM_NAMES = {"tqdm": "tqdm = lambda it=(), *a, **k: it", "trange": "trange = lambda *a, **k: range(*a)"}


def _spec(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _installed(module: str) -> bool:
    if module in WRITTEN_BY_THE_NOTEBOOKS:
        return True
    try:
        return importlib.util.find_spec(module.split(".")[0]) is not None
    except (ImportError, ValueError):
        return False


def as_graded(source: str, bound: frozenset[str] = frozenset()) -> str:
    """The cell with docs/jupyter-differences.md's deliberate differences applied, by plain
    text rules; ``bound``: the names earlier cells defined (``graded_notebook``)."""
    if SHELL_CELL.match(source):
        return ""
    lines = []
    for line in source.splitlines():
        graded = _graded_line(line, bound)
        if graded is not None:
            lines.append(graded)
    return "\n".join(lines)


def graded_notebook(sources: list[str]) -> list[str]:
    """``as_graded`` of each cell, knowing the names the cells before it defined: an import
    of a missing module that would rebind one of them fails in the grader as in Jupyter."""
    bound: set[str] = set()
    graded = []
    for source in sources:
        graded.append(as_graded(source, frozenset(bound)))
        bound.update(m.group(1) or m.group(2) for m in DEFINED.finditer(source))
    return graded


def _graded_line(line: str, bound: frozenset[str] = frozenset()) -> str | None:
    """None when the line is skipped, else the line as it runs."""
    if SHELL_LINE.match(line) or SHELL_MAGIC_LINE.match(line) or COLAB_MAGIC.match(line):
        return None
    if EXIT.match(line):
        return None
    if (match := CHDIR.match(line)) and not Path(match.group(1)).is_dir():
        return None
    if (match := LOAD_EXT.match(line)) and not any(
            _spec(m) for m in (match.group(1), f"IPython.extensions.{match.group(1)}")):
        return None
    if match := UPLOAD_ASSIGN.match(line):
        return f"{match.group(1)}{{}}"
    if MISSING_CALLS.match(line):
        return None
    if match := SHELL_ASSIGN.match(line):
        return f"{match.group(1)}[]"
    if match := MPL_GUI.match(line):
        return f"{match.group(1)}%matplotlib inline"
    if match := CD.match(line):
        return line if Path(match.group(1).strip().strip("'\"")).expanduser().is_dir() else None
    if (match := IMPORT.match(line)) and "(" not in line:
        module = match.group(1) or match.group(2)
        names = [n.strip().split(" as ")[-1] for n in (match.group(3) or "").split(",")]
        if not _installed(module) and not bound.intersection(names):
            stand_ins = [TQDM_NAMES[n] for n in names if module.startswith("tqdm") and n in TQDM_NAMES]
            return "\n".join(stand_ins) if stand_ins else None
    return line


def differs(source: str, graded: str | None = None) -> bool:
    """Whether grading documents a difference for this cell (so the worker must note it);
    ``graded``: its ``graded_notebook`` version."""
    return (as_graded(source) if graded is None else graded).strip() != source.strip()


def write(folder: Path, notebooks: dict[str, list[str]] | None = None) -> list[Path]:
    """Each notebook (name -> code cells; default ``NOTEBOOKS``) as ``folder/NAME.ipynb``."""
    import nbformat

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, cells in (NOTEBOOKS if notebooks is None else notebooks).items():
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
        paths.append(folder / f"{name}.ipynb")
        nbformat.write(notebook, paths[-1])
    return paths


if __name__ == "__main__":
    for written in write(Path(sys.argv[1])):
        print(written)
