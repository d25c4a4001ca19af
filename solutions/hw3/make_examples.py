"""Build the bundled example submissions of HW3 from the student notebook.

    python solutions/hw3/make_examples.py

writes ``solutions/hw3/examples/`` (instructor-only: they include correct code): a
correct submission written unlike the reference (plain loops, im2col by matrix
product, Kingma & Ba's "efficient" Adam, functional ReLU, pooling and dropout), and
the typical mistakes, each alone in an otherwise correct notebook, so each loses
exactly its own points. Student ids are the course's example roster
(``course/examples/roster.csv``), so ``make demo`` combines HW1-HW3 per student.
``colab()`` is a second correct style (Colab habits: magics, a device, modules for
ReLU and pooling, a DataLoader); ``tests/autograder/test_examples_hw3.py`` grades it
beside the examples and holds the per-question scores each must get, and why.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
STUDENT = HERE.parent.parent / "assignments" / "hw3" / "hw3.ipynb"
OUT = HERE / "examples"

CORRECT = {
    "conv_forward": '''
def conv_forward(x, w, b, stride=1, pad=0):
    n, c, h, wd = x.shape
    f, _, hh, ww = w.shape
    ho = (h + 2 * pad - hh) // stride + 1
    wo = (wd + 2 * pad - ww) // stride + 1
    xp = np.zeros((n, c, h + 2 * pad, wd + 2 * pad))
    xp[:, :, pad:pad + h, pad:pad + wd] = x
    out = np.empty((n, f, ho, wo))
    for k in range(n):
        for g in range(f):
            for i in range(ho):
                for j in range(wo):
                    patch = xp[k, :, i * stride:i * stride + hh, j * stride:j * stride + ww]
                    out[k, g, i, j] = np.sum(patch * w[g]) + b[g]
    return out
''',
    "conv_backward": '''
def conv_backward(dout, x, w, b, stride=1, pad=0):
    n, c, h, wd = x.shape
    f, _, hh, ww = w.shape
    xp = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)], mode="constant")
    dxp = np.zeros(xp.shape)
    dw = np.zeros(w.shape)
    for k in range(n):
        for g in range(f):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    r, s = i * stride, j * stride
                    dw[g] += dout[k, g, i, j] * xp[k, :, r:r + hh, s:s + ww]
                    dxp[k, :, r:r + hh, s:s + ww] += dout[k, g, i, j] * w[g]
    db = np.sum(dout, axis=(0, 2, 3))
    return dxp[:, :, pad:pad + h, pad:pad + wd], dw, db
''',
    "max_pool_forward": '''
def max_pool_forward(x, size=2, stride=2):
    n, c, h, w = x.shape
    out = np.zeros((n, c, (h - size) // stride + 1, (w - size) // stride + 1))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            out[:, :, i, j] = np.max(x[:, :, i * stride:i * stride + size,
                                       j * stride:j * stride + size], axis=(2, 3))
    return out
''',
    "max_pool_backward": '''
def max_pool_backward(dout, x, size=2, stride=2):
    dx = np.zeros_like(x, dtype=float)
    for k in range(x.shape[0]):
        for ch in range(x.shape[1]):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    window = x[k, ch, i * stride:i * stride + size, j * stride:j * stride + size]
                    r, s = np.unravel_index(np.argmax(window), window.shape)
                    dx[k, ch, i * stride + r, j * stride + s] += dout[k, ch, i, j]
    return dx
''',
    "conv_forward_fast": '''
def conv_forward_fast(x, w, b, stride=1, pad=0):
    n, c, h, wd = x.shape
    f, _, hh, ww = w.shape
    ho = (h + 2 * pad - hh) // stride + 1
    wo = (wd + 2 * pad - ww) // stride + 1
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    cols = np.empty((c, hh, ww, n, ho, wo))
    for di in range(hh):  # im2col: one slice per filter offset
        for dj in range(ww):
            part = xp[:, :, di:di + stride * ho:stride, dj:dj + stride * wo:stride]
            cols[:, di, dj] = part.transpose(1, 0, 2, 3)
    out = w.reshape(f, -1) @ cols.reshape(c * hh * ww, -1)
    return out.reshape(f, n, ho, wo).transpose(1, 0, 2, 3) + b.reshape(1, f, 1, 1)
''',
    "adam_step": '''
def adam_step(w, dw, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    if state is None:
        state = {"m": np.zeros(w.shape), "v": np.zeros(w.shape), "t": 0}
    t = state["t"] + 1
    m = beta1 * state["m"] + (1 - beta1) * dw
    v = beta2 * state["v"] + (1 - beta2) * (dw * dw)
    # Kingma & Ba's "efficient" form of the bias correction (section 2 of the paper)
    correction = np.sqrt(1 - beta2 ** t)
    step = lr * correction / (1 - beta1 ** t)
    return w - step * m / (np.sqrt(v) + eps * correction), {"m": m, "v": v, "t": t}
''',
    "torch_conv": '''
def torch_conv(x, w, b, stride=1, pad=0):
    return torch.nn.functional.conv2d(input=x, weight=w, bias=b, stride=(stride, stride),
                                      padding=(pad, pad))
''',
    "SmallCNN": '''
class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels=1, out_channels=8, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, kernel_size=(3, 3), padding=(1, 1))
        self.fc = nn.Linear(784, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(torch.relu(self.conv2(x)), kernel_size=2, stride=2)
        x = x.reshape(x.shape[0], -1)
        x = F.dropout(x, p=0.25, training=self.training)
        return self.fc(x)
''',
    "train": '''
def train(X, y, seed, epochs=3):
    torch.manual_seed(seed)
    net = SmallCNN()
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    net.train()
    for epoch in range(epochs):
        for idx in torch.split(torch.randperm(X.shape[0]), 16):
            loss = F.cross_entropy(net(X[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return net.state_dict()
''',
}

MISTAKES = {
    # a true convolution: the filter is flipped (PyTorch's conv2d, and the spec, do not flip)
    "2023002": {"conv_forward": CORRECT["conv_forward"].replace("patch * w[g]",
                                                                "patch * w[g, :, ::-1, ::-1]")},
    # dw overwritten at every position instead of accumulated
    "2023003": {"conv_backward": CORRECT["conv_backward"].replace(
        "dw[g] += dout", "dw[g] = dout")},
    # every tied maximum gets the whole gradient
    "2023004": {"max_pool_backward": '''
def max_pool_backward(dout, x, size=2, stride=2):
    dx = np.zeros(x.shape)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            window = x[:, :, i * stride:i * stride + size, j * stride:j * stride + size]
            mask = window == window.max(axis=(2, 3), keepdims=True)
            dx[:, :, i * stride:i * stride + size, j * stride:j * stride + size] += \\
                mask * dout[:, :, i:i + 1, j:j + 1]
    return dx
'''},
    # "fast" with four nested Python loops: right values, far over the 0.25 s budget
    "2023005": {"conv_forward_fast": CORRECT["conv_forward"].replace(
        "def conv_forward(", "def conv_forward_fast(")},
    # Adam without the bias correction
    "2023006": {"adam_step": '''
def adam_step(w, dw, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    if state is None:
        state = {"m": np.zeros_like(w), "v": np.zeros_like(w), "t": 0}
    m = beta1 * state["m"] + (1 - beta1) * dw
    v = beta2 * state["v"] + (1 - beta2) * dw ** 2
    return w - lr * m / (np.sqrt(v) + eps), {"m": m, "v": v, "t": state["t"] + 1}
'''},
    # Adam updating the caller's moment arrays in place
    "2023007": {"adam_step": '''
def adam_step(w, dw, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    if state is None:
        state = {"m": np.zeros_like(w), "v": np.zeros_like(w), "t": 0}
    m, v, t = state["m"], state["v"], state["t"] + 1
    m *= beta1
    m += (1 - beta1) * dw
    v *= beta2
    v += (1 - beta2) * dw ** 2
    new_w = w - lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps)
    return new_w, {"m": m, "v": v, "t": t}
'''},
    # through NumPy and back: right values, but no gradient reaches x, w, b
    "2023008": {"torch_conv": '''
def torch_conv(x, w, b, stride=1, pad=0):
    out = conv_forward_fast(x.detach().numpy(), w.detach().numpy(), b.detach().numpy(), stride, pad)
    return torch.tensor(out, dtype=torch.float32)
'''},
    # dropout left on in eval() mode (F.dropout's training defaults to True)
    "kim_mj": {"SmallCNN": CORRECT["SmallCNN"].replace(
        "F.dropout(x, p=0.25, training=self.training)", "F.dropout(x, p=0.25)")},
    # the optimiser steps the parameters of another model: the returned one never trains
    "lee_sy_2": {"train": CORRECT["train"].replace("torch.optim.Adam(net.parameters()",
                                                   "torch.optim.Adam(SmallCNN().parameters()")},
}

COLAB_SETUP = '''
# Colab habits: magics, a shell escape, a device, a Drive mount that only works on Colab
%matplotlib inline
!nvidia-smi -L
import os
import random

import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset

try:
    from google.colab import drive
    drive.mount("/content/drive")
except ImportError:
    pass
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
'''

COLAB = {
    "conv_forward": '''
def conv_forward(x, w, b, stride=1, pad=0):
    N, C, H, W = x.shape
    F_, _, HH, WW = w.shape
    Ho, Wo = (H + 2 * pad - HH) // stride + 1, (W + 2 * pad - WW) // stride + 1
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F_, Ho, Wo)) + b[None, :, None, None]
    for di in range(HH):
        for dj in range(WW):
            part = xp[:, :, di:di + stride * Ho:stride, dj:dj + stride * Wo:stride]
            out += np.einsum("nchw,fc->nfhw", part, w[:, :, di, dj])
    return out
''',
    "conv_backward": '''
def conv_backward(dout, x, w, b, stride=1, pad=0):
    N, C, H, W = x.shape
    F_, _, HH, WW = w.shape
    Ho, Wo = dout.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp, dw = np.zeros_like(xp), np.empty_like(w)
    for di in range(HH):
        for dj in range(WW):
            rows, cols = slice(di, di + stride * Ho, stride), slice(dj, dj + stride * Wo, stride)
            dw[:, :, di, dj] = np.einsum("nfhw,nchw->fc", dout, xp[:, :, rows, cols])
            dxp[:, :, rows, cols] += np.einsum("nfhw,fc->nchw", dout, w[:, :, di, dj])
    return dxp[:, :, pad:pad + H, pad:pad + W], dw, dout.sum(axis=(0, 2, 3))
''',
    "max_pool_backward": '''
def max_pool_backward(dout, x, size=2, stride=2):
    N, C = x.shape[:2]
    dx = np.zeros(x.shape)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            win = x[:, :, i * stride:i * stride + size, j * stride:j * stride + size]
            flat = win.reshape(N * C, -1)
            mask = np.zeros_like(flat)
            mask[np.arange(N * C), flat.argmax(axis=1)] = 1.0
            dx[:, :, i * stride:i * stride + size, j * stride:j * stride + size] += \\
                (mask * dout[:, :, i, j].reshape(-1, 1)).reshape(win.shape)
    return dx
''',
    "conv_forward_fast": '''
def conv_forward_fast(x, w, b, stride=1, pad=0):
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    N, C, H, W = xp.shape
    F_, _, HH, WW = w.shape
    Ho, Wo = (H - HH) // stride + 1, (W - WW) // stride + 1
    s = xp.strides
    patches = np.lib.stride_tricks.as_strided(
        xp, (N, C, Ho, Wo, HH, WW), (s[0], s[1], s[2] * stride, s[3] * stride, s[2], s[3]))
    out = np.tensordot(patches, w, axes=([1, 4, 5], [1, 2, 3]))  # (N, Ho, Wo, F)
    return out.transpose(0, 3, 1, 2) + b[None, :, None, None]
''',
    "adam_step": '''
def adam_step(w, dw, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    if not state:
        state = dict(m=np.zeros_like(w), v=np.zeros_like(w), t=0)
    new = {"t": state["t"] + 1}
    new["m"] = beta1 * state["m"] + (1.0 - beta1) * dw
    new["v"] = beta2 * state["v"] + (1.0 - beta2) * np.square(dw)
    m_hat = new["m"] / (1.0 - beta1 ** new["t"])
    v_hat = new["v"] / (1.0 - beta2 ** new["t"])
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), new
''',
    "torch_conv": '''
def torch_conv(x, w, b, stride=1, pad=0):
    return F.conv2d(x.to(device), w.to(device), b.to(device), stride, pad).cpu()
''',
    "SmallCNN": '''
class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.relu1 = nn.ReLU()
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.relu2 = nn.ReLU(inplace=True)
        self.flatten = nn.Flatten()
        self.drop = nn.Dropout(p=0.25)
        self.fc = nn.Linear(16 * 7 * 7, 10)

    def forward(self, x):
        x = self.pool(self.relu1(self.conv1(x)))
        x = self.pool(self.relu2(self.conv2(x)))
        return self.fc(self.drop(self.flatten(x)))
''',
    "train": '''
def train(X, y, seed, epochs=3):
    torch.manual_seed(seed)
    random.seed(seed)
    model = SmallCNN().to(device)
    optimizer = optim.Adam(model.parameters(), lr=2e-3)
    criterion = nn.CrossEntropyLoss()
    loader = DataLoader(TensorDataset(X, y), batch_size=16, shuffle=True, num_workers=0)
    for epoch in range(epochs):
        model.train()
        running = 0.0
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            optimizer.zero_grad()
            loss = criterion(model(images), labels)
            loss.backward()
            optimizer.step()
            running += loss.item()
        print(f"epoch {epoch + 1}: loss {running / len(loader):.3f}")
    return {k: v.cpu() for k, v in model.state_dict().items()}
''',
}


def filled(answers: dict[str, str], setup: str = "") -> nbformat.NotebookNode:
    """The student notebook with each skeleton cell replaced by an answer; ``setup`` is a
    cell put right after the one that imports torch."""
    notebook = nbformat.read(STUDENT, as_version=4)
    cells = []
    for cell in notebook.cells:
        cells.append(cell)
        if setup and cell.cell_type == "code" and cell.source.startswith("import torch"):
            cells.append(nbformat.v4.new_code_cell(setup.strip() + "\n"))
        if cell.cell_type != "code" or "raise NotImplementedError" not in cell.source:
            continue
        for name, code in answers.items():
            if f"def {name}(" in cell.source or f"class {name}(" in cell.source:
                cell.source = code.strip() + "\n"
                break
    notebook.cells = cells
    return notebook


def colab() -> nbformat.NotebookNode:
    """The second correct style: Colab habits, modules, a DataLoader."""
    return filled({**CORRECT, **COLAB}, setup=COLAB_SETUP)


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
