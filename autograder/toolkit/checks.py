"""Student-safe assertions for the hidden graders (trusted side only).

A grader gets decoded, trusted values back from the worker (see
``autograder.inside.protocol``) and checks them with the helpers below. Every failure
is a :class:`GradingFailure` whose message is shown to the student *verbatim*,
so messages follow one pattern and only ever mention

* ``what`` (the label the grader passes, e.g. "`softmax` on a column vector"),
* the kind of problem (type, shape, dtype, NaN/inf, out of range, value),
* public facts: the type, shape and dtype the student returned, the expected
  type and shape, and counts of wrong entries.

They never mention the expected values, the student's values, the inputs or
the tolerances. Two families:

* ``as_float``, ``as_int``, ``as_array``: check the *type* (and shape) of a
  value and return it normalized (``float``, ``int``, float64 ndarray).
* ``expect_float``, ``expect_int``, ``expect_array``: check the type first,
  then finiteness, then compare with the reference value.

``as_finite_array`` is ``as_array`` plus ``expect_finite`` (and ``expect_within``);
``expect_each`` runs one ``expect_*`` check over a batch such as
``student.call_each``'s, with labels such as ``case_labels``' "(case N of M)".

A problem with the *grader* (an expected value that is not finite, a shape that
contradicts the expected array) raises ``ValueError``: the engine reports that
as an internal error, never as the student's fault.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from autograder.errors import redact_numbers
from autograder.inside.protocol import ModuleData, Unsupported

DEFAULT_RTOL = 1e-5
DEFAULT_ATOL = 1e-8

_REAL_KINDS = frozenset("iuf")  # integer, unsigned, float
_ARRAY_KINDS = frozenset("biuf")  # the above plus bool


class GradingFailure(AssertionError):
    """A failed check; the message is safe to show to the student as it is."""


class PartialCredit(GradingFailure):
    """A failed check that still earns ``fraction`` (0 <= fraction < 1) of the test's points."""

    def __init__(self, fraction: float, message: str) -> None:
        if not 0.0 <= fraction < 1.0:
            raise ValueError(f"a partial credit fraction is in [0, 1), not {fraction!r}")
        super().__init__(message)
        self.fraction = float(fraction)


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """cs231n's relative error ``max |a - b| / max(1e-8, |a| + |b|)`` (elementwise max)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def credit_by_rel_error(errors: list[float], *, what: str, full: float = 1e-7,
                        half: float = 1e-5) -> None:
    """Full credit when every case's relative error is below ``full``; else partial.

    Each case is worth the same: below ``full`` all of it, below ``half`` half,
    else none (NaN counts as none). Raises ``PartialCredit`` unless every case is
    full; the message counts the cases, never shows the errors.
    """
    if not errors:
        raise ValueError("no cases to grade")
    worth = [1.0 if e < full else 0.5 if e < half else 0.0 for e in errors]
    if all(w == 1.0 for w in worth):
        return
    close = sum(w == 0.5 for w in worth)
    wrong = sum(w == 0.0 for w in worth)
    parts = ([f"{wrong} of {len(worth)} cases are wrong (relative error 1e-5 or more)"]
             if wrong else [])
    if close:
        parts.append(f"{close} of {len(worth)} cases are only close (relative error between "
                     "1e-7 and 1e-5: half credit)")
    raise PartialCredit(sum(worth) / len(worth), f"{what}: " + "; ".join(parts))


def describe(value: Any) -> str:
    """A short, student-safe name for the type (and shape) of a decoded value.

    >>> describe([1, 2])
    'list'
    >>> describe(np.zeros((3, 1)))
    'ndarray of shape (3, 1) and dtype float64'
    """
    if isinstance(value, Unsupported):
        return f"Unsupported type {redact_numbers(value.type_name)}"  # names are student-made
    if type(value) is np.ndarray:
        return f"ndarray of shape {value.shape} and dtype {value.dtype}"
    if type(value).__name__ == "Tensor" and type(value).__module__ == "torch":  # a decoded one
        dtype = str(value.dtype).removeprefix("torch.")
        return f"Tensor of shape {tuple(value.shape)} and dtype {dtype}"
    if type(value) is ModuleData:
        return f"torch module {redact_numbers(value.class_name)}"
    if isinstance(value, np.generic):  # before float: np.float64 subclasses float
        return f"numpy.{type(value).__name__}"
    if value is None:
        return "None"
    return type(value).__name__


# --------------------------------------------------------------------------- types


_FLOAT_MAX_INT = int(np.finfo(np.float64).max)


def as_float(value: Any, *, what: str) -> float:
    """Return ``value`` as a float if it is a real number; fail otherwise.

    Accepted: a Python ``float`` or ``int``, a NumPy real scalar, or a 0-d real
    ndarray. Rejected: ``bool`` (Python or NumPy), complex numbers, lists, and
    arrays with any dimension, including shape ``(1,)`` or ``(1, 1)``.
    """
    kind = type(value)
    if kind is int and not -_FLOAT_MAX_INT <= value <= _FLOAT_MAX_INT:  # 10**400: no float
        raise GradingFailure(f"{what}: expected a float, got an int too large for a float")
    if kind in (float, int):
        return float(value)
    is_numpy = isinstance(value, np.generic) or kind is np.ndarray
    if is_numpy and np.ndim(value) == 0 and value.dtype.kind in _REAL_KINDS:
        return float(value)
    raise GradingFailure(
        f"{what}: expected a float (a NumPy scalar or 0-d array is also fine), "
        f"got {describe(value)}"
    )


def as_int(value: Any, *, what: str) -> int:
    """Return ``value`` as an int if it is a Python int or a NumPy integer.

    ``bool`` and ``numpy.bool`` are rejected (``True`` is not the int ``1`` the
    spec asks for), and so are floats (even ``1.0``) and arrays of any shape.
    """
    kind = type(value)
    if kind is int or (isinstance(value, np.generic) and value.dtype.kind in "iu"):
        return int(value)
    if kind is bool or isinstance(value, np.bool_):
        raise GradingFailure(
            f"{what}: expected int, got {describe(value)} (return 1 or 0, not True or False)"
        )
    raise GradingFailure(f"{what}: expected int, got {describe(value)}")


def as_array(value: Any, *, what: str, shape: tuple[int, ...]) -> np.ndarray:
    """Return ``value`` as a float64 copy if it is a real ndarray of exactly ``shape``.

    Bool and integer dtypes are accepted (and converted); lists, tuples,
    scalars, complex arrays and any other shape fail.
    """
    shape = tuple(shape)
    expectation = f"ndarray of shape {shape}"
    if type(value) is not np.ndarray:
        raise GradingFailure(f"{what}: expected {expectation}, got {describe(value)}")
    if value.dtype.kind not in _ARRAY_KINDS:
        raise GradingFailure(
            f"{what}: expected {expectation} of real numbers, got {describe(value)}"
        )
    if value.shape != shape:
        raise GradingFailure(f"{what}: expected {expectation}, got {describe(value)}")
    return np.asarray(value, dtype=np.float64).copy()


def as_finite_array(value: Any, *, what: str, shape: tuple[int, ...],
                    within: tuple[float, float] | None = None) -> np.ndarray:
    """``as_array``, then ``expect_finite`` and, given ``within=(low, high)``, ``expect_within``.

    Returns the float64 copy; the first check that fails raises its own message.
    """
    array = as_array(value, what=what, shape=shape)
    expect_finite(array, what=what)
    if within is not None:
        expect_within(array, *within, what=what)
    return array


def as_real_sequence(value: Any, *, what: str, length: int) -> tuple[float, ...]:
    """Return a tuple/list/1-d ndarray of ``length`` finite real numbers as floats.

    Used for weight tuples such as ``AND_WEIGHTS``; bools are not numbers here.
    """
    expectation = f"a {length}-tuple of numbers"
    if type(value) is np.ndarray:
        if value.shape != (length,) or value.dtype.kind not in _REAL_KINDS:
            raise GradingFailure(f"{what}: expected {expectation}, got {describe(value)}")
        items: list[Any] = list(value)
    elif type(value) in (tuple, list):
        if len(value) != length:
            raise GradingFailure(
                f"{what}: expected {expectation}, got {describe(value)} of length {len(value)}"
            )
        items = list(value)
    else:
        raise GradingFailure(f"{what}: expected {expectation}, got {describe(value)}")
    numbers = []
    for position, item in enumerate(items):
        try:
            number = as_float(item, what=what)
        except GradingFailure:
            raise GradingFailure(
                f"{what}: expected {expectation}, but entry {position} is {describe(item)}"
            ) from None
        if not np.isfinite(number):
            raise GradingFailure(f"{what}: entry {position} is NaN or infinite")
        numbers.append(number)
    return tuple(numbers)


# --------------------------------------------------------------------------- values


def expect_float(
    value: Any,
    expected: float,
    *,
    what: str,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
) -> None:
    """Check that ``value`` is a finite real scalar close to ``expected``.

    The comparison is ``np.isclose(value, expected, rtol, atol)`` in float64.
    """
    expected = _finite_expected_float(expected)
    number = as_float(value, what=what)
    if np.isnan(number):
        raise GradingFailure(f"{what}: returned NaN; expected a finite float")
    if np.isinf(number):
        raise GradingFailure(f"{what}: returned an infinite value; expected a finite float")
    if not np.isclose(number, expected, rtol=rtol, atol=atol):
        raise GradingFailure(f"{what}: returned a value that differs from the reference solution")


def expect_int(value: Any, expected: int, *, what: str) -> None:
    """Check that ``value`` is an int (not bool) exactly equal to ``expected``."""
    if type(expected) is not int:
        raise ValueError(f"expected must be an int, not {type(expected).__name__}")
    if as_int(value, what=what) != expected:
        raise GradingFailure(f"{what}: returned a value that differs from the reference solution")


def expect_array(
    value: Any,
    expected: np.ndarray,
    *,
    what: str,
    shape: tuple[int, ...] | None = None,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
) -> None:
    """Check type, shape, finiteness, then values of an ndarray against ``expected``.

    ``shape`` defaults to ``expected.shape``; the comparison is
    ``np.isclose(value, expected, rtol, atol)`` element-wise in float64.
    """
    reference = np.asarray(expected, dtype=np.float64)
    shape = reference.shape if shape is None else tuple(shape)
    if shape != reference.shape:
        raise ValueError(f"shape {shape} contradicts the expected array's {reference.shape}")
    if not np.all(np.isfinite(reference)):
        raise ValueError("the expected array is not finite")
    array = as_array(value, what=what, shape=shape)
    expect_finite(array, what=what)
    wrong = int(np.count_nonzero(~np.isclose(array, reference, rtol=rtol, atol=atol)))
    if wrong:
        raise GradingFailure(
            f"{what}: returned values that differ from the reference solution "
            f"in {wrong} of {array.size} entries"
        )


def expect_finite(array: np.ndarray, *, what: str) -> None:
    """Check that a (float64) array has no NaN or infinite entries."""
    bad = int(np.count_nonzero(~np.isfinite(array)))
    if bad:
        raise GradingFailure(f"{what}: returned NaN or inf in {bad} of {array.size} entries")


def expect_within(array: np.ndarray, low: float, high: float, *, what: str) -> None:
    """Check that every entry of a finite float64 array lies in ``[low, high]``.

    The bounds must be public (e.g. ``[0, 1]`` for probabilities): they appear
    in the message.
    """
    outside = int(np.count_nonzero((array < low) | (array > high)))
    if outside:
        raise GradingFailure(
            f"{what}: returned values outside [{low:g}, {high:g}] "
            f"in {outside} of {array.size} entries"
        )


# --------------------------------------------------------------------------- batches


def expect_each(check: Callable[..., None], values: Iterable[Any], expected: Iterable[Any],
                whats: Iterable[str], **tolerances: float) -> None:
    """``check(value, want, what=what, **tolerances)`` for each case of a batch, in order.

    ``values`` is typically ``student.call_each(...)``; the first case that fails
    stops the batch. A generator of ``student.call`` results works too: each call
    then runs only after the previous value passed. ``values``, ``expected`` and
    ``whats`` must have the same length (a grader bug otherwise: ``ValueError``).
    """
    for value, want, what in zip(values, expected, whats, strict=True):
        check(value, want, what=what, **tolerances)


def case_labels(what: str, count: int, note: str = "") -> list[str]:
    """``count`` labels ``"{what} (case N of {count}{note})"``, N from 1, for ``expect_each``.

    >>> case_labels("`f` on random inputs", 2)
    ['`f` on random inputs (case 1 of 2)', '`f` on random inputs (case 2 of 2)']
    """
    return [f"{what} (case {number} of {count}{note})" for number in range(1, count + 1)]


def _finite_expected_float(expected: Any) -> float:
    number = float(expected)
    if not np.isfinite(number):
        raise ValueError("the expected value is not finite")
    return number
