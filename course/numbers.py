"""Exact arithmetic helpers: reading numbers people wrote, rounding half-up, showing them.

``exact_number`` is the one door every number from an input file (scores,
points, counts, Grade Center ``[Total Pts: ...]``, the policy's TOML) comes
through: bounded in length, digits and exponent, so ``1e999999999`` or a
5,000-digit score is a clear error, never a billion-digit integer (a hang) or a
traceback.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction

MAX_NUMBER_CHARS = 40  # a written number: sign, digits, point, exponent
MAX_DIGITS = 30  # significant digits kept exactly
MAX_EXPONENT = 30  # |exponent| of the last digit: 1e30 and 1e-30 at most
MAX_COUNT_DIGITS = 9  # whole counts (absences, late days): below a billion


class NumberError(ValueError):
    """A number an input gave that cannot be read (the message says why, without the place)."""


def exact_number(value: str | int | Decimal) -> Fraction:
    """``value`` (text such as ``12.5``, ``1e3``; an int or Decimal from TOML) as an exact
    Fraction, or NumberError: not a number, not finite, too long or too large an exponent."""
    if isinstance(value, bool):
        raise NumberError(f"{value} is not a number")
    if isinstance(value, int):
        if len(str(abs(value))) > MAX_DIGITS:
            raise NumberError(f"a number of more than {MAX_DIGITS} digits")
        return Fraction(value)
    shown = str(value)
    if isinstance(value, str):
        text = shown = value.strip()
        if len(text) > MAX_NUMBER_CHARS:
            raise NumberError(f"'{text[:20]}...' ({len(text)} characters) is too long for a "
                              f"number (at most {MAX_NUMBER_CHARS})")
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise NumberError(f"'{text}' is not a number") from None
    if not value.is_finite():
        raise NumberError(f"'{shown}' is not a number")
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite
    if len(digits) > MAX_DIGITS or not -MAX_EXPONENT <= exponent <= MAX_EXPONENT:
        raise NumberError(f"'{shown}' is out of range (at most {MAX_DIGITS} digits, "
                          f"exponent within +-{MAX_EXPONENT})")
    return Fraction(value)


def exact_count(text: str) -> int:
    """A whole number >= 0 written in ASCII digits (absences, late days), or NumberError."""
    text = text.strip()
    if not text.isascii() or not text.isdigit():
        raise NumberError(f"'{text[:40]}' is not a whole number >= 0")
    if len(text.lstrip("0")) > MAX_COUNT_DIGITS:
        raise NumberError(f"'{text[:20]}...' ({len(text)} digits) is too large a count")
    return int(text)


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
