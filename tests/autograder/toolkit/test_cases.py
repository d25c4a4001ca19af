"""Unit tests of ``autograder.toolkit.cases``' case drawers."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.toolkit.cases import probabilities


@pytest.mark.parametrize("n", [1, 2, 3, 10, 25, 200])
def test_probabilities_is_a_probability_column_with_no_entry_near_zero(n):
    rng = np.random.default_rng(n)
    for _ in range(50):
        p = probabilities(rng, n)
        assert p.shape == (n, 1) and p.dtype == np.float64
        assert p.sum() == pytest.approx(1.0, abs=1e-12)
        assert p.min() >= 0.5 / n - 1e-15 and p.max() <= 0.5 + 0.5 / n + 1e-15


def test_probabilities_stays_in_the_cross_entropy_range_up_to_25_entries():
    """For 2 <= n <= 25 every entry is in [0.02, 0.75], as HW1's cross-entropy tests assume."""
    rng = np.random.default_rng(474)
    for n in range(2, 26):
        p = probabilities(rng, n)
        assert 0.02 - 1e-15 <= p.min() and p.max() <= 0.75 + 1e-15


def test_probabilities_draws_from_the_rng_only():
    """The same seed gives the same column, and it uses n normal draws of the generator."""
    first, second = np.random.default_rng(7), np.random.default_rng(7)
    assert np.array_equal(probabilities(first, 5), probabilities(second, 5))
    replay = np.random.default_rng(7)
    replay.normal(0.0, 1.5, (5, 1))
    assert first.random() == replay.random()
