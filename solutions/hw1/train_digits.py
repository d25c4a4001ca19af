"""Train the 784 -> 15 -> 10 network that HW1's "real digits" section runs.

Usage (from the repository root; needs scikit-learn, a dev dependency):

    python solutions/hw1/train_digits.py            # writes assignments/hw1/digits.npz
    python solutions/hw1/train_digits.py --out X.npz

No download happens: the data are scikit-learn's bundled UCI handwritten digits
(1797 images, 8x8 pixels, values 0..16).  Each image is upsampled to 20x20 by
bilinear interpolation and centred in a 28x28 frame (as MNIST centres its 20x20
digits), then scaled to [0, 1] and quantized to uint8 (pixel = round(255 * v)).

The network is exactly the lecture's: x (784 x 1) -> bias appended LAST ->
w1 (15 x 785) -> sigmoid -> bias appended last -> w2 (10 x 16) -> sigmoid.
It is trained with plain numpy mini-batch gradient descent on the sigmoid
cross-entropy cost, from a fixed seed, so a rerun gives the same weights.

The output .npz holds:

    w1      float64 (15, 785)   hidden layer, last column = bias weights
    w2      float64 (10, 16)    output layer, last column = bias weights
    images  uint8   (200, 784)  held-out digits (never trained on), row-major
                                28x28; divide by 255 to get the network input
    labels  uint8   (200,)      their true classes 0..9

The file is written with fixed zip timestamps, so identical arrays give an
identical file.
"""

from __future__ import annotations

import argparse
import io
import pathlib
import zipfile

import numpy as np

SEED = 474
N_HELD_OUT = 200
N_HIDDEN = 15
EPOCHS = 150
BATCH = 32
LEARNING_RATE = 0.5

REPO = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO / "assignments" / "hw1" / "digits.npz"


def _interp_matrix(n_out: int, n_in: int) -> np.ndarray:
    """Linear-interpolation matrix R (n_out x n_in): R @ v resamples v to n_out points."""
    pos = np.linspace(0.0, n_in - 1.0, n_out)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, n_in - 1)
    frac = pos - lo
    r = np.zeros((n_out, n_in))
    r[np.arange(n_out), lo] += 1.0 - frac
    r[np.arange(n_out), hi] += frac
    return r


def digits_as_mnist() -> tuple[np.ndarray, np.ndarray]:
    """The bundled 8x8 digits as MNIST-like 28x28 images: (uint8 (N, 784), labels (N,))."""
    from sklearn.datasets import load_digits  # dev dependency, only needed here

    data = load_digits()
    small = data.images / 16.0  # (N, 8, 8) in [0, 1]
    r = _interp_matrix(20, 8)
    big = np.einsum("ij,njk,lk->nil", r, small, r)  # (N, 20, 20)
    framed = np.zeros((len(big), 28, 28))
    framed[:, 4:24, 4:24] = big
    pixels = np.rint(np.clip(framed, 0.0, 1.0) * 255).astype(np.uint8)
    return pixels.reshape(len(big), 784), data.target.astype(np.uint8)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -z))


def forward(x: np.ndarray, w1: np.ndarray, w2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Batched lecture forward pass; x is (784, N). Returns (hidden a2 without bias, output a3)."""
    ones = np.ones((1, x.shape[1]))
    a2 = _sigmoid(w1 @ np.concatenate([x, ones], 0))
    a3 = _sigmoid(w2 @ np.concatenate([a2, ones], 0))
    return a2, a3


def train(x: np.ndarray, labels: np.ndarray, rng: np.random.Generator):
    """Mini-batch gradient descent on the sigmoid cross-entropy; x is (784, N)."""
    n_in, n = x.shape
    w1 = rng.normal(0.0, 1.0 / np.sqrt(n_in + 1), size=(N_HIDDEN, n_in + 1))
    w2 = rng.normal(0.0, 1.0 / np.sqrt(N_HIDDEN + 1), size=(10, N_HIDDEN + 1))
    y = np.eye(10)[labels].T  # (10, N) one-hot
    for _ in range(EPOCHS):
        order = rng.permutation(n)
        for start in range(0, n, BATCH):
            idx = order[start : start + BATCH]
            xb, yb = x[:, idx], y[:, idx]
            ones = np.ones((1, len(idx)))
            a1 = np.concatenate([xb, ones], 0)
            a2, a3 = forward(xb, w1, w2)
            a2b = np.concatenate([a2, ones], 0)
            d3 = a3 - yb  # d(sigmoid cross entropy)/d z3
            d2 = (w2[:, :N_HIDDEN].T @ d3) * a2 * (1.0 - a2)
            w2 -= LEARNING_RATE * (d3 @ a2b.T) / len(idx)
            w1 -= LEARNING_RATE * (d2 @ a1.T) / len(idx)
    return w1, w2


def accuracy(images: np.ndarray, labels: np.ndarray, w1: np.ndarray, w2: np.ndarray) -> float:
    """Fraction of images (uint8 rows) whose argmax output equals the label."""
    _, out = forward(images.T / 255.0, w1, w2)
    return float(np.mean(np.argmax(out, 0) == labels))


def save_npz_deterministic(path: pathlib.Path, **arrays: np.ndarray) -> None:
    """Like np.savez_compressed, but with fixed zip timestamps (byte-reproducible)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(arrays):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(SEED)
    pixels, labels = digits_as_mnist()
    order = rng.permutation(len(labels))
    held_out, train_idx = order[:N_HELD_OUT], order[N_HELD_OUT:]

    w1, w2 = train(pixels[train_idx].T / 255.0, labels[train_idx], rng)
    train_acc = accuracy(pixels[train_idx], labels[train_idx], w1, w2)
    test_acc = accuracy(pixels[held_out], labels[held_out], w1, w2)

    save_npz_deterministic(
        args.out,
        w1=w1.astype(np.float64),
        w2=w2.astype(np.float64),
        images=pixels[held_out],
        labels=labels[held_out],
    )
    print(f"train accuracy    {train_acc:.1%} on {len(train_idx)} images")
    print(f"held-out accuracy {test_acc:.1%} on {len(held_out)} images")
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
