"""Exact arithmetic helpers: rounding half-up and showing numbers to people."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction


def round_half_up(value: Fraction, places: int = 2) -> Decimal:
    """``value`` rounded half away from zero to ``places`` decimals, exactly.

    89.995 -> 90.00 and 89.994 -> 89.99 (no binary float is involved).
    """
    scale = 10**places
    magnitude = (abs(value) * scale + Fraction(1, 2)).__floor__()
    sign = -1 if value < 0 else 1
    exact: Decimal = Decimal(sign * magnitude) / scale
    return exact.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)


def two_places(value: Fraction) -> str:
    """The reported form of a grade number: half-up, exactly two decimals."""
    return str(round_half_up(value, 2))


def plain(value: Fraction) -> str:
    """A number as written by hand: 20, 12.5, 89.995; a repeating one as ~0.666667."""
    twos = fives = 0
    rest = value.denominator
    while rest % 2 == 0:
        rest, twos = rest // 2, twos + 1
    while rest % 5 == 0:
        rest, fives = rest // 5, fives + 1
    if rest != 1:
        return f"~{round_half_up(value, 6)}"
    return str(round_half_up(value, max(twos, fives)))
