"""Grader toolkit, part 1: drawing fresh test cases and computing expected values.

Trusted side only (graders import it; the worker never does). Part 2, the
student-safe assertions, is ``autograder.toolkit.checks``. Everything here is small and
general; an assignment's own helpers stay in its ``graders.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def expected(function: Callable[..., Any], *args: Any) -> Any:
    """Call a reference function; over/underflow in ``exp`` is expected, not an error."""
    with np.errstate(over="ignore", under="ignore"):
        return function(*args)


def expected_float(function: Callable[..., Any], *args: Any) -> float:
    """A reference cost or scalar as a float (a size-1 array or NumPy scalar is fine)."""
    return np.asarray(expected(function, *args), dtype=np.float64).item()


def draw(make: Callable[[], Any], accept: Callable[[Any], bool], tries: int = 1000) -> Any:
    """Draw ``make()`` until ``accept`` holds (a grader bug if it never does)."""
    for _ in range(tries):
        candidate = make()
        if accept(candidate):
            return candidate
    raise RuntimeError("could not draw an acceptable test case")


def column(values: Any) -> np.ndarray:
    """``values`` as a float64 column vector of shape ``(n, 1)``."""
    return np.asarray(values, dtype=np.float64).reshape(-1, 1)


def one_hot(rng: np.random.Generator, n: int, m: int = 1) -> np.ndarray:
    """``m`` random one-hot columns of length ``n``: shape ``(n, m)``."""
    target = np.zeros((n, m))
    target[rng.integers(0, n, m), np.arange(m)] = 1.0
    return target


def weights(rng: np.random.Generator, n_out: int, n_in: int, scale: float = 1.0) -> np.ndarray:
    """A ``(n_out, n_in + 1)`` weight matrix (bias column last) with N(0, scale²) entries."""
    return rng.normal(0.0, scale, (n_out, n_in + 1))


def probabilities(rng: np.random.Generator, n: int) -> np.ndarray:
    """A random probability vector of shape ``(n, 1)``: it sums to 1, no entry is near 0.

    Half of the mass is spread by softmax weights of N(0, 1.5²) logits, half
    evenly, so every entry lies in ``[0.5 / n, 0.5 + 0.5 / n]`` (for 2 <= n <= 25:
    within [0.02, 0.75], where clipping or an epsilon inside a log changes nothing).
    """
    logits = rng.normal(0.0, 1.5, (n, 1))
    spread = np.exp(logits - logits.max())
    mass: np.ndarray = 0.5 * spread / spread.sum() + 0.5 / n
    return mass
