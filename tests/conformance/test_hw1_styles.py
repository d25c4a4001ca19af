"""Correct HW1 solutions in students' styles score 100/100 through the TA's ``grade`` command."""

from __future__ import annotations

import pytest
from hw1_styles import styles, write
from styles_graded import grade_styles, gradebook_rows


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return grade_styles(tmp_path_factory, "hw1", write, timeout=600)


@pytest.mark.parametrize("style", sorted(styles()))
def test_a_correct_solution_in_this_style_scores_full_marks(graded, style):
    rows = gradebook_rows(graded)
    assert (rows[style]["status"], rows[style]["score"]) == ("graded", "100")


@pytest.mark.parametrize("style, note", [
    ("missing-imports", "module `h5py` is not installed in the grading environment"),
    ("colab-header", "`google.colab.drive.mount(...)` did nothing"),
    ("shell-cells", "`%%bash` cell was skipped"),
    ("magics-first-line", None),
])
def test_the_feedback_names_what_was_skipped(graded, style, note):
    feedback = (graded / style / "feedback.md").read_text()
    if note is None:
        assert "About your notebook" not in feedback
    else:
        assert note in feedback
