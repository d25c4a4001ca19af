"""End to end for the third assignment: the TA's command on HW3's examples, each typical
mistake alone in an otherwise correct notebook (see solutions/hw3/make_examples.py), plus a
second and a third correct style (Colab habits, modules, a DataLoader; SciPy, stride tricks,
tqdm), the reference and the skeleton."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.grading.catalog import load_module

pytest.importorskip("torch")

REPO = Path(__file__).resolve().parents[2]
HOME = REPO / "solutions" / "hw3"
EXAMPLES = HOME / "examples"
QUESTIONS = ["conv_forward", "conv_backward", "max_pool", "conv_fast", "adam", "torch_conv",
             "cnn", "train"]
FULL = [15, 15, 10, 5, 10, 10, 10, 25]


# A third correct style, written from the spec alone: SciPy's correlate/convolve, stride
# tricks and np.add.at, Adam through state.get, torch.conv2d, one shared ReLU and pooling
# module, x.view, tqdm (not installed here: the engine's stand-in), a deep-copied state_dict.
SPEC_STYLE = {
"conv_forward": '''
from scipy.signal import correlate
def conv_forward(x, w, b, stride=1, pad=0):
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    N, F = x.shape[0], w.shape[0]
    full = np.stack([np.stack([correlate(xp[n], w[f], mode="valid")[0] for f in range(F)]) for n in range(N)])
    return full[:, :, ::stride, ::stride] + b.reshape(1, -1, 1, 1)
''',
"conv_backward": '''
from scipy.signal import correlate, convolve
def conv_backward(dout, x, w, b, stride=1, pad=0):
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    # dilate dout back to stride 1
    Hs, Ws = xp.shape[2] - HH + 1, xp.shape[3] - WW + 1
    d = np.zeros((N, F, Hs, Ws))
    d[:, :, ::stride, ::stride] = dout
    dw = np.zeros(w.shape)
    dxp = np.zeros(xp.shape)
    for n in range(N):
        for f in range(F):
            for c in range(C):
                dw[f, c] += correlate(xp[n, c], d[n, f], mode="valid")
                dxp[n, c] += convolve(d[n, f], w[f, c], mode="full")
    return dxp[:, :, pad:pad + H, pad:pad + W], dw, dout.sum(axis=(0, 2, 3))
''',
"max_pool_forward": '''
from numpy.lib.stride_tricks import sliding_window_view
def max_pool_forward(x, size=2, stride=2):
    return sliding_window_view(x, (size, size), axis=(2, 3))[:, :, ::stride, ::stride].max(axis=(4, 5))
''',
"max_pool_backward": '''
def max_pool_backward(dout, x, size=2, stride=2):
    win = sliding_window_view(x, (size, size), axis=(2, 3))[:, :, ::stride, ::stride]
    N, C, Ho, Wo = win.shape[:4]
    k = win.reshape(N, C, Ho, Wo, -1).argmax(axis=-1)
    r, s = np.divmod(k, size)
    n, c, i, j = np.indices((N, C, Ho, Wo))
    dx = np.zeros(x.shape)
    np.add.at(dx, (n, c, i * stride + r, j * stride + s), dout)
    return dx
''',
"adam_step": '''
def adam_step(w, dw, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    state = {} if state is None else state.copy()
    t = state.get("t", 0) + 1
    m = beta1 * state.get("m", 0.0) + (1 - beta1) * dw
    v = beta2 * state.get("v", 0.0) + (1 - beta2) * dw ** 2
    new_w = w - lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps)
    return new_w, {"m": m, "v": v, "t": t}
''',
"torch_conv": '''
def torch_conv(x, w, b, stride=1, pad=0):
    return torch.conv2d(x, w, bias=b, stride=stride, padding=pad)
''',
"SmallCNN": '''
class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool2d(kernel_size=2)
        self.conv1 = nn.Conv2d(1, 8, 3, 1, 1)
        self.conv2 = nn.Conv2d(8, 16, 3, 1, 1)
        self.dropout = nn.Dropout(0.25)
        self.fc = nn.Linear(16 * 7 * 7, 10)

    def forward(self, x):
        x = self.pool(self.relu(self.conv1(x)))
        x = self.pool(self.relu(self.conv2(x)))
        x = x.view(x.size(0), -1)
        return self.fc(self.dropout(x))
''',
"train": '''
import copy
from tqdm.auto import tqdm
def train(X, y, seed, epochs=3):
    torch.manual_seed(seed)
    model = SmallCNN()
    opt = torch.optim.Adam(model.parameters(), lr=0.002)
    loss_fn = nn.CrossEntropyLoss()
    history = []
    for epoch in tqdm(range(epochs), desc="epochs"):
        model.train()
        perm = torch.randperm(len(y))
        for i in range(0, len(y), 16):
            idx = perm[i:i + 16]
            opt.zero_grad()
            loss = loss_fn(model(X[idx]), y[idx])
            loss.backward()
            opt.step()
            history.append(loss.item())
    model.eval()
    return copy.deepcopy(model.state_dict())
''',
}


def losing(question: str, points: float) -> list[float]:
    return [points if q == question else full for q, full in zip(QUESTIONS, FULL, strict=True)]


# student -> (points per question, words the feedback of the failed tests must contain)
EXPECTED = {
    "2023001": (FULL, ""),  # correct, written unlike the reference
    "colab": (FULL, ""),  # correct, a second style: magics, modules, DataLoader
    "scipy": (FULL, ""),  # correct, a third style (SPEC_STYLE)
    "reference": (FULL, ""),
    "2023002": (losing("conv_forward", 6), "cases are wrong"),  # the filter flipped
    "2023003": (losing("conv_backward", 5), "cases are wrong"),  # dw overwritten
    "2023004": (losing("max_pool", 8), "on windows with ties"),  # every tie gets dout
    "2023005": (losing("conv_fast", 0), "did not return within 0.25 s"),  # four loops
    "2023006": (losing("adam", 4), "`adam_step`: 12 of 12 cases are wrong"),  # no bias correction
    "2023007": (losing("adam", 8), "modified its input"),  # moments updated in place
    "2023008": (losing("torch_conv", 5), "no gradient reaches x, w or b"),  # through NumPy
    "kim_mj": (losing("cnn", 4), "the logits"),  # dropout on in eval()
    "lee_sy_2": (losing("train", 5), "of held-out digits correctly"),  # never trains
    "skeleton": ([0] * 8, "NotImplementedError"),  # the untouched student notebook
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    source = tmp_path_factory.mktemp("submissions")
    for path in EXAMPLES.glob("*.ipynb"):
        shutil.copy(path, source)
    examples = load_module(HOME / "make_examples.py", "hw3_make_examples")
    nbformat.write(examples.colab(), source / "colab.ipynb")
    nbformat.write(examples.filled({**examples.CORRECT, **SPEC_STYLE}), source / "scipy.ipynb")
    reference = (HOME / "reference.py").read_text()
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(reference)]),
                   source / "reference.ipynb")
    shutil.copy(REPO / "assignments" / "hw3" / "hw3.ipynb", source / "skeleton.ipynb")
    out = tmp_path_factory.mktemp("out")
    run = subprocess.run([sys.executable, "-m", "autograder", "grade", "hw3", str(source),
                          "--out", str(out), "--seed", "474", "--quiet"],
                         capture_output=True, text=True, timeout=1800, check=False)
    return run, out


def test_every_example_gets_the_points_of_its_mistake(graded):
    run, out = graded
    assert run.returncode == 0, run.stdout + run.stderr
    rows = list(csv.reader((out / "gradebook.csv").read_text().splitlines()))
    assert rows[0] == ["student_id", "status", "score", "max_score", *QUESTIONS,
                       "submitted_at", "late_days"]
    got = {row[0]: [float(v) for v in row[4:-2]] for row in rows[1:]}
    assert got == {student: [float(p) for p in points] for student, (points, _) in EXPECTED.items()}
    assert {row[1] for row in rows[1:]} == {"graded"}


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_feedback_names_the_mistake(graded, student):
    _, out = graded
    data = json.loads((out / student / "results.json").read_text())
    words = EXPECTED[student][1]
    failed = [t["output"] for t in data["tests"] if t["status"] == "failed"]
    if not words:
        assert failed == []
    else:
        assert failed and any(words in output for output in failed), failed


def test_feedback_shows_no_hidden_values(graded):
    """No expected value, input or reference text reaches a student-visible file (the TA's
    logs and report, which show the submitted "reference" notebook's own code, are not)."""
    _, out = graded
    for path in out.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".csv", ".md", ".html") \
                and not {"_ta_logs", "report"} & set(path.relative_to(out).parts):
            text = path.read_text()
            assert "np.tensordot(window, w" not in text and "sliding_window_view(xp" not in text, path
