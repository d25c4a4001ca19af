"""Write assignments/hw2/digits.npz: HW1's digits, with the images HW1 trained on.

Usage (from the repository root; needs scikit-learn, the `authoring` extra):

    python solutions/hw2/make_digits.py

HW2 trains the lecture's network itself, so it needs the training images that
HW1's file leaves out. This file is made by HW1's own pipeline
(``solutions/hw1/train_digits.py``: scikit-learn's bundled UCI digits, upsampled
to 28x28, the same seed and the same split), so its ``test_*`` arrays are
exactly HW1's 200 held-out digits and nothing is downloaded. Arrays:

    train_images  uint8 (1597, 784)   divide by 255 for the network input
    train_labels  uint8 (1597,)
    test_images   uint8 (200, 784)    = HW1's digits.npz "images" (never trained on)
    test_labels   uint8 (200,)        = HW1's "labels"
"""

from __future__ import annotations

import importlib.util
import pathlib
import sys

import numpy as np

REPO = pathlib.Path(__file__).resolve().parents[2]
OUT = REPO / "assignments" / "hw2" / "digits.npz"


def hw1_pipeline():
    spec = importlib.util.spec_from_file_location("train_digits",
                                                  REPO / "solutions/hw1/train_digits.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> int:
    hw1 = hw1_pipeline()
    rng = np.random.default_rng(hw1.SEED)
    pixels, labels = hw1.digits_as_mnist()
    order = rng.permutation(len(labels))
    held_out, train_idx = order[: hw1.N_HELD_OUT], order[hw1.N_HELD_OUT :]
    hw1.save_npz_deterministic(OUT, train_images=pixels[train_idx],
                               train_labels=labels[train_idx], test_images=pixels[held_out],
                               test_labels=labels[held_out])
    print(f"wrote {OUT.relative_to(REPO)} ({OUT.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
