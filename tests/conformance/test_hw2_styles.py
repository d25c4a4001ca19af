"""Correct HW2 solutions in students' styles score 100/100 through the TA's ``grade`` command."""

from __future__ import annotations

import pytest
from hw2_styles import styles, write
from styles_graded import grade_styles, gradebook_rows


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return grade_styles(tmp_path_factory, "hw2", write, timeout=900)


@pytest.mark.parametrize("style", sorted(styles()))
def test_a_correct_solution_in_this_style_scores_full_marks(graded, style):
    rows = gradebook_rows(graded)
    assert (rows[style]["status"], rows[style]["score"]) == ("graded", "100")
