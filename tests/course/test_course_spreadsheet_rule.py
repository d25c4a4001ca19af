"""``course.spreadsheet.spreadsheet_cell``: the one CSV-injection rule every export uses."""

from __future__ import annotations

import pytest

from course.spreadsheet import spreadsheet_cell


@pytest.mark.parametrize("cell", ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1", " =1",
                                  "\u00a0@x", "\n-x", "\uff1d1", "\uff0b1", "\uff0d1", "\uff20x",
                                  "-", "+", "-inf", "-2+3", "=", "-1e3x"])
def test_formula_like_cells_get_an_apostrophe(cell):
    assert spreadsheet_cell(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["-3", "+2.5", "1e3", "-1.5E-3", "0", "96.25", "Kim", "",
                                  "a=b", "'=x", "홍길동", "A+"])
def test_numbers_and_text_are_left_alone(cell):
    assert spreadsheet_cell(cell) == cell


def test_non_text_is_left_alone():
    assert spreadsheet_cell(3) == 3 and spreadsheet_cell(None) is None
