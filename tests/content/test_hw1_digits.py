"""assignments/hw1/digits.npz: documented layout, small, and the trained network works."""

from __future__ import annotations

import gzip
import re
import struct

import numpy as np
import pytest
from hw1_helpers import DIGITS, REPO, code_cells, load_module

TRAIN_SCRIPT = REPO / "solutions" / "hw1" / "train_digits.py"

LAYOUT = {
    "w1": ((15, 785), np.float64),
    "w2": ((10, 16), np.float64),
    "images": ((200, 784), np.uint8),
    "labels": ((200,), np.uint8),
}


@pytest.fixture(scope="module")
def digits():
    with np.load(DIGITS, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def test_file_is_small():
    """The shipped data file stays well under 1 MB."""
    assert DIGITS.stat().st_size < 1_000_000


def test_arrays_have_the_documented_layout(digits):
    """Exactly w1 (15x785), w2 (10x16), images (200x784 uint8) and labels (200 uint8)."""
    assert set(digits) == set(LAYOUT)
    for name, (shape, dtype) in LAYOUT.items():
        assert digits[name].shape == shape, name
        assert digits[name].dtype == dtype, name
    assert set(np.unique(digits["labels"])) == set(range(10)), "every digit occurs"
    assert digits["images"].max() == 255 and digits["images"].min() == 0


def stated_accuracy(nb) -> float:
    for cell in nb.cells:
        m = re.search(r"accuracy of \*\*(\d+(?:\.\d)?)%\*\*", cell.source)
        if cell.cell_type == "markdown" and m:
            return float(m.group(1)) / 100
    raise AssertionError("the notebook does not state the digits accuracy")


def test_reference_network_reaches_the_stated_accuracy(reference, digits, student_nb):
    """The reference predict() on the 200 held-out images gets the accuracy the notebook states."""
    x = digits["images"] / 255.0
    predictions = np.array(
        [reference.predict(img.reshape(784, 1), digits["w1"], digits["w2"]) for img in x]
    )
    accuracy = float(np.mean(predictions == digits["labels"]))
    assert accuracy >= 0.80
    assert accuracy == pytest.approx(stated_accuracy(student_nb), abs=1e-9)


def _idx(array: np.ndarray) -> bytes:
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


@pytest.mark.parametrize("compressed", [True, False], ids=["gzip", "raw"])
def test_optional_mnist_idx_loader_reads_idx_files(student_nb, tmp_path, compressed):
    """The notebook's (not run by default) MNIST IDX helper reads images and labels correctly."""
    source = next(c.source for c in code_cells(student_nb) if "def load_mnist_idx" in c.source)
    env: dict = {"np": np}
    exec(compile(source, "<load_mnist_idx cell>", "exec"), env)  # noqa: S102 - our own notebook
    images = np.random.default_rng(3).integers(0, 256, size=(5, 28, 28))
    labels = np.array([3, 1, 4, 1, 5])
    paths = []
    for name, arr in [("imgs", images), ("labels", labels)]:
        path = tmp_path / (name + (".gz" if compressed else ""))
        path.write_bytes(gzip.compress(_idx(arr)) if compressed else _idx(arr))
        paths.append(path)
    got_images, got_labels = env["load_mnist_idx"](*paths)
    assert got_images.shape == (5, 784)
    np.testing.assert_allclose(got_images, images.reshape(5, 784) / 255.0)
    assert got_labels.tolist() == labels.tolist()


def test_training_script_reproduces_the_shipped_file(tmp_path, digits):
    """Rerunning solutions/hw1/train_digits.py (seeded) gives the same images and weights."""
    pytest.importorskip("sklearn", reason="train_digits.py needs scikit-learn (dev extra)")
    train = load_module("content_tests_train_digits", TRAIN_SCRIPT)
    out = tmp_path / "digits.npz"
    assert train.main(["--out", str(out)]) == 0
    with np.load(out, allow_pickle=False) as fresh:
        np.testing.assert_array_equal(fresh["images"], digits["images"])
        np.testing.assert_array_equal(fresh["labels"], digits["labels"])
        # bit-equality of trained weights is not portable across BLAS builds; closeness is
        np.testing.assert_allclose(fresh["w1"], digits["w1"], atol=1e-5)
        np.testing.assert_allclose(fresh["w2"], digits["w2"], atol=1e-5)
