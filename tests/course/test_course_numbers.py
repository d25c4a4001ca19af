"""``course.numbers.exact_number``: the one door numbers from input files come through."""

from __future__ import annotations

import pytest

from course.numbers import NumberError, exact_count, exact_number


def test_exact_number_keeps_ordinary_numbers_exact():
    assert exact_number("89.995") * 1000 == 89995
    assert exact_number(" 1e3 ") == 1000 and exact_number("2.5E-1") * 4 == 1
    assert exact_number("1e30") == 10 ** 30 and exact_count("007") == 7


@pytest.mark.parametrize("bad", ["nan", "inf", "", "1,5", "0x10", "1e31", "1e-31", "9" * 31,
                                 True])
def test_exact_number_refuses_what_is_not_a_bounded_number(bad):
    with pytest.raises(NumberError):
        exact_number(bad)
