# GENERATED FILE - DO NOT EDIT. Reference solution of hw3, generated from
# solutions/hw3/hw3-master.ipynb by:
#     python solutions/build.py hw3
# (python solutions/build.py --check hw3 fails when this file is stale.)
# Instructor-only: never copy this file into assignments/.
"""Reference solution of hw3 (generated from the master notebook)."""

import numpy as np

__all__ = [
    "SmallCNN",
    "adam_step",
    "conv_backward",
    "conv_forward",
    "conv_forward_fast",
    "max_pool_backward",
    "max_pool_forward",
    "torch_conv",
    "train",
]


def conv_forward(x, w, b, stride=1, pad=0):
    """Convolution (cross-correlation) of x (N, C, H, W) with w (F, C, HH, WW), plus b (F,)."""
    N, _, H, W = x.shape
    F_, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F_, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = xp[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out


def conv_backward(dout, x, w, b, stride=1, pad=0):
    """Gradients (dx, dw, db) of sum(conv_forward(x, w, b, stride, pad) * dout)."""
    H, W = x.shape[2:]
    HH, WW = w.shape[2:]
    H_out, W_out = dout.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    db = dout.sum(axis=(0, 2, 3))
    for i in range(H_out):
        for j in range(W_out):
            rows = slice(i * stride, i * stride + HH)
            cols = slice(j * stride, j * stride + WW)
            g = dout[:, :, i, j]
            dw += np.tensordot(g, xp[:, :, rows, cols], axes=([0], [0]))
            dxp[:, :, rows, cols] += np.tensordot(g, w, axes=([1], [0]))
    dx = dxp[:, :, pad:pad + H, pad:pad + W]
    return dx, dw, db


def max_pool_forward(x, size=2, stride=2):
    """The maximum of every size x size window of x (N, C, H, W), channel by channel."""
    N, C, H, W = x.shape
    H_out = 1 + (H - size) // stride
    W_out = 1 + (W - size) // stride
    out = np.zeros((N, C, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = x[:, :, i * stride:i * stride + size, j * stride:j * stride + size]
            out[:, :, i, j] = window.max(axis=(2, 3))
    return out


def max_pool_backward(dout, x, size=2, stride=2):
    """dx: each window's dout routed to the first maximum of the window (row-major)."""
    N, C = x.shape[:2]
    H_out, W_out = dout.shape[2:]
    dx = np.zeros(x.shape)
    n, c = np.indices((N, C))
    for i in range(H_out):
        for j in range(W_out):
            window = x[:, :, i * stride:i * stride + size, j * stride:j * stride + size]
            first = np.argmax(window.reshape(N, C, -1), axis=2)
            r, s = np.unravel_index(first, (size, size))
            dx[n, c, i * stride + r, j * stride + s] += dout[:, :, i, j]
    return dx


def conv_forward_fast(x, w, b, stride=1, pad=0):
    """conv_forward, vectorised (im2col, einsum or stride tricks)."""
    HH, WW = w.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = np.lib.stride_tricks.sliding_window_view(xp, (HH, WW), axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride]
    out = np.einsum("nchwij,fcij->nfhw", windows, w, optimize=True)
    return out + b[None, :, None, None]


def adam_step(w, dw, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """One Adam step; state is None at first, then the dict the previous step returned."""
    if state is None:
        m, v, t = np.zeros_like(w), np.zeros_like(w), 0
    else:
        m, v, t = state["m"], state["v"], state["t"]
    t = t + 1
    m = beta1 * m + (1 - beta1) * dw
    v = beta2 * v + (1 - beta2) * dw ** 2
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    new_w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
    return new_w, {"m": m, "v": v, "t": t}


import torch
import torch.nn.functional as F
from torch import nn


def torch_conv(x, w, b, stride=1, pad=0):
    """conv_forward on float32 tensors, with torch.nn.functional.conv2d (autograd-friendly)."""
    return F.conv2d(x, w, b, stride=stride, padding=pad)


class SmallCNN(nn.Module):
    """conv1 -> ReLU -> pool -> conv2 -> ReLU -> pool -> flatten -> dropout -> fc."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.dropout = nn.Dropout(0.25)
        self.fc = nn.Linear(16 * 7 * 7, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = self.dropout(torch.flatten(x, 1))
        return self.fc(x)


def train(X, y, seed, epochs=3):
    """Train a fresh SmallCNN on X (N, 1, 28, 28) and labels y (N,); return its state_dict()."""
    torch.manual_seed(seed)
    model = SmallCNN()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(X))
        for start in range(0, len(X), 16):
            batch = order[start:start + 16]
            optimizer.zero_grad()
            loss = F.cross_entropy(model(X[batch]), y[batch])
            loss.backward()
            optimizer.step()
    return model.state_dict()
