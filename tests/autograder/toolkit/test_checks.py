"""Unit tests of ``autograder.toolkit.checks``: what each helper accepts, and its exact messages."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from autograder.inside.protocol import Unsupported
from autograder.toolkit.checks import (
    GradingFailure,
    as_array,
    as_finite_array,
    as_float,
    as_int,
    as_real_sequence,
    case_labels,
    describe,
    expect_array,
    expect_each,
    expect_finite,
    expect_float,
    expect_int,
    expect_within,
)

WHAT = "`f`"
FLOAT_EXPECTATION = "expected a float (a NumPy scalar or 0-d array is also fine)"


def failure_message(check, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(GradingFailure) as info:
        check(*args, **kwargs)
    return str(info.value)


def test_grading_failure_is_an_assertion_error():
    """The engine and pytest treat a GradingFailure as an ordinary test failure."""
    assert issubclass(GradingFailure, AssertionError)


# --------------------------------------------------------------------------- describe


DESCRIBED = [
    (None, "None"),
    (True, "bool"),
    (3, "int"),
    (1.5, "float"),
    (1j, "complex"),
    ("1.5", "str"),
    ([1.0], "list"),
    ((1.0,), "tuple"),
    ({"a": 1}, "dict"),
    (np.zeros((3, 1)), "ndarray of shape (3, 1) and dtype float64"),
    (np.zeros((), dtype=np.int32), "ndarray of shape () and dtype int32"),
    (np.float64(1.0), "numpy.float64"),
    (np.float32(1.0), "numpy.float32"),
    (np.int64(1), "numpy.int64"),
    (np.bool_(True), "numpy.bool"),
    (Unsupported("MyClass"), "Unsupported type MyClass"),
    (Unsupported("ndarray[O]"), "Unsupported type ndarray[O]"),
]


@pytest.mark.parametrize(("value", "text"), DESCRIBED, ids=[text for _, text in DESCRIBED])
def test_describe(value, text):
    """`describe` names the type, plus shape and dtype for arrays; numpy scalars say so."""
    assert describe(value) == text


# --------------------------------------------------------------------------- as_float


@pytest.mark.parametrize(
    ("value", "number"),
    [
        (1.5, 1.5),
        (-2, -2.0),
        (np.float64(0.25), 0.25),
        (np.float32(0.5), 0.5),
        (np.int64(7), 7.0),
        (np.uint8(200), 200.0),
        (np.array(2.5), 2.5),
        (np.array(3, dtype=np.int16), 3.0),
    ],
    ids=["float", "int", "np.float64", "np.float32", "np.int64", "np.uint8", "0-d", "0-d-int"],
)
def test_as_float_accepts_real_scalars(value, number):
    """Python and NumPy real scalars and 0-d real arrays are floats; the result is a float."""
    result = as_float(value, what=WHAT)
    assert type(result) is float
    assert result == number


def test_as_float_checks_type_only():
    """NaN is a float: finiteness is `expect_float`'s job, not `as_float`'s."""
    assert math.isnan(as_float(float("nan"), what=WHAT))


@pytest.mark.parametrize(
    ("value", "got"),
    [
        (True, "bool"),
        (np.bool_(False), "numpy.bool"),
        (np.array(True), "ndarray of shape () and dtype bool"),
        ([1.0], "list"),
        ((1.0,), "tuple"),
        (np.array([1.0]), "ndarray of shape (1,) and dtype float64"),
        (np.ones((1, 1)), "ndarray of shape (1, 1) and dtype float64"),
        (1j, "complex"),
        (np.complex128(1), "numpy.complex128"),
        (np.array(1j), "ndarray of shape () and dtype complex128"),
        ("1.0", "str"),
        (None, "None"),
        (Unsupported("Thing"), "Unsupported type Thing"),
    ],
    ids=[
        "bool",
        "np.bool",
        "0-d-bool",
        "list",
        "tuple",
        "shape-(1,)",
        "shape-(1,1)",
        "complex",
        "np.complex128",
        "0-d-complex",
        "str",
        "None",
        "unsupported",
    ],
)
def test_as_float_rejects(value, got):
    """Anything but a real scalar fails, saying what was returned and what was expected."""
    assert failure_message(as_float, value, what=WHAT) == f"`f`: {FLOAT_EXPECTATION}, got {got}"


# --------------------------------------------------------------------------- as_int


@pytest.mark.parametrize(
    "value",
    [3, -1, np.int64(3), np.int32(-1), np.uint8(3)],
    ids=["int", "negative", "np.int64", "np.int32", "np.uint8"],
)
def test_as_int_accepts_integers(value):
    """Python ints and NumPy integers (e.g. `np.argmax`'s result) are ints; the result is an int."""
    result = as_int(value, what=WHAT)
    assert type(result) is int
    assert result == int(value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (True, "`f`: expected int, got bool (return 1 or 0, not True or False)"),
        (np.bool_(False), "`f`: expected int, got numpy.bool (return 1 or 0, not True or False)"),
        (1.0, "`f`: expected int, got float"),
        (np.float64(1.0), "`f`: expected int, got numpy.float64"),
        (np.array(1), "`f`: expected int, got ndarray of shape () and dtype int64"),
        (np.array([1]), "`f`: expected int, got ndarray of shape (1,) and dtype int64"),
        ("1", "`f`: expected int, got str"),
        (None, "`f`: expected int, got None"),
    ],
    ids=["bool", "np.bool", "float", "np.float64", "0-d", "shape-(1,)", "str", "None"],
)
def test_as_int_rejects(value, message):
    """Bools, floats (even integral ones) and arrays are not ints."""
    assert failure_message(as_int, value, what=WHAT) == message


# --------------------------------------------------------------------------- as_array


@pytest.mark.parametrize(
    "value",
    [
        np.arange(3.0).reshape(3, 1),
        np.arange(3).reshape(3, 1),
        np.array([[True], [False], [True]]),
        np.arange(3, dtype=np.float32).reshape(3, 1),
    ],
    ids=["float64", "int64", "bool", "float32"],
)
def test_as_array_accepts_real_arrays(value):
    """Real and bool arrays of the exact shape come back as a float64 copy."""
    result = as_array(value, what=WHAT, shape=(3, 1))
    assert result.dtype == np.float64
    assert result.shape == (3, 1)
    assert result is not value
    np.testing.assert_array_equal(result, value.astype(np.float64))


@pytest.mark.parametrize(
    ("value", "got"),
    [
        ([[0.0]] * 10, "list"),
        (tuple([0.0] * 10), "tuple"),
        (0.5, "float"),
        (np.zeros(10), "ndarray of shape (10,) and dtype float64"),
        (np.zeros((1, 10)), "ndarray of shape (1, 10) and dtype float64"),
        (Unsupported("ndarray[O]"), "Unsupported type ndarray[O]"),
    ],
    ids=["list", "tuple", "float", "shape-(10,)", "shape-(1,10)", "unsupported"],
)
def test_as_array_rejects_type_and_shape(value, got):
    """Only an ndarray of exactly the expected shape passes."""
    message = failure_message(as_array, value, what="`neural_network`", shape=(10, 1))
    assert message == f"`neural_network`: expected ndarray of shape (10, 1), got {got}"


def test_as_array_rejects_complex():
    """A complex array fails with a dtype message, even with the right shape."""
    message = failure_message(as_array, np.zeros((2, 1), dtype=complex), what=WHAT, shape=(2, 1))
    assert message == (
        "`f`: expected ndarray of shape (2, 1) of real numbers, "
        "got ndarray of shape (2, 1) and dtype complex128"
    )


# --------------------------------------------------------------------------- as_real_sequence


@pytest.mark.parametrize(
    "value",
    [
        (-1.5, 1, 1),
        [-1.5, 1.0, np.float64(1.0)],
        np.array([-1.5, 1.0, 1.0]),
        (-1.5, np.int64(1), 1),
    ],
    ids=["tuple", "list", "ndarray", "numpy-int"],
)
def test_as_real_sequence_accepts(value):
    """A tuple, list or 1-d array of real numbers becomes a tuple of floats."""
    result = as_real_sequence(value, what=WHAT, length=3)
    assert result == (-1.5, 1.0, 1.0)
    assert all(type(number) is float for number in result)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ((1, 2), "`f`: expected a 3-tuple of numbers, got tuple of length 2"),
        ([1, 2, 3, 4], "`f`: expected a 3-tuple of numbers, got list of length 4"),
        (None, "`f`: expected a 3-tuple of numbers, got None"),
        ("abc", "`f`: expected a 3-tuple of numbers, got str"),
        (
            np.ones((3, 1)),
            "`f`: expected a 3-tuple of numbers, got ndarray of shape (3, 1) and dtype float64",
        ),
        (
            np.array([True, False, True]),
            "`f`: expected a 3-tuple of numbers, got ndarray of shape (3,) and dtype bool",
        ),
        ((1, True, 2), "`f`: expected a 3-tuple of numbers, but entry 1 is bool"),
        ((1, "2", 2), "`f`: expected a 3-tuple of numbers, but entry 1 is str"),
        ((1, 2, float("nan")), "`f`: entry 2 is NaN or infinite"),
    ],
    ids=["short", "long", "None", "str", "column", "bool-array", "bool-entry", "str-entry", "nan"],
)
def test_as_real_sequence_rejects(value, message):
    """Wrong container, wrong length, non-numbers and non-finite numbers fail."""
    assert failure_message(as_real_sequence, value, what=WHAT, length=3) == message


# --------------------------------------------------------------------------- expect_float


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1.58, 1.58),
        (1.5800000000000003, 1.58),
        (1.58 * (1 + 5e-6), 1.58),
        (np.float64(0.3), 0.1 + 0.2),
        (np.array(2.0), 2.0),
        (np.float32(0.1), 0.1),
        (3, 3.0),
        (5e-9, 0.0),
    ],
    ids=[
        "exact",
        "rounding",
        "within-rtol",
        "np.float64",
        "0-d",
        "np.float32",
        "int",
        "within-atol",
    ],
)
def test_expect_float_passes(value, expected):
    """A real scalar within `rtol=1e-5, atol=1e-8` of the expected value passes."""
    expect_float(value, expected, what=WHAT)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0.158, "`f`: returned a value that differs from the reference solution"),
        (1.58 * (1 + 2e-5), "`f`: returned a value that differs from the reference solution"),
        (float("nan"), "`f`: returned NaN; expected a finite float"),
        (np.float64("nan"), "`f`: returned NaN; expected a finite float"),
        (float("inf"), "`f`: returned an infinite value; expected a finite float"),
        (np.array(-np.inf), "`f`: returned an infinite value; expected a finite float"),
        (
            np.full((1, 1), 1.58),
            f"`f`: {FLOAT_EXPECTATION}, got ndarray of shape (1, 1) and dtype float64",
        ),
        ([1.58], f"`f`: {FLOAT_EXPECTATION}, got list"),
        (True, f"`f`: {FLOAT_EXPECTATION}, got bool"),
    ],
    ids=[
        "wrong",
        "just-outside-rtol",
        "nan",
        "np-nan",
        "inf",
        "0-d-inf",
        "shape-(1,1)",
        "list",
        "bool",
    ],
)
def test_expect_float_fails(value, message):
    """Type first, then NaN/inf, then the value: each with its own message."""
    assert failure_message(expect_float, value, 1.58, what=WHAT) == message


def test_expect_float_rejects_non_finite_expected():
    """A non-finite expected value is a grader bug (ValueError), not the student's failure."""
    with pytest.raises(ValueError, match="not finite"):
        expect_float(1.0, float("nan"), what=WHAT)


# --------------------------------------------------------------------------- expect_int


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1, 1), (0, 0), (np.int64(7), 7), (np.uint8(0), 0)],
    ids=["one", "zero", "np.int64", "np.uint8"],
)
def test_expect_int_passes(value, expected):
    """An int or NumPy integer equal to the expected int passes."""
    expect_int(value, expected, what=WHAT)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, "`f`: returned a value that differs from the reference solution"),
        (np.int64(2), "`f`: returned a value that differs from the reference solution"),
        (True, "`f`: expected int, got bool (return 1 or 0, not True or False)"),
        (1.0, "`f`: expected int, got float"),
    ],
    ids=["wrong", "np-wrong", "bool", "float"],
)
def test_expect_int_fails(value, message):
    """The type is checked before the (exact) value."""
    assert failure_message(expect_int, value, 1, what=WHAT) == message


def test_expect_int_requires_an_int_expected():
    """Comparing against a non-int is a grader bug."""
    with pytest.raises(ValueError):
        expect_int(1, 1.0, what=WHAT)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- expect_array

EXPECTED = np.linspace(0.1, 0.7, 7).reshape(7, 1)


@pytest.mark.parametrize(
    "value",
    [EXPECTED.copy(), EXPECTED * (1 + 5e-6), EXPECTED.astype(np.float32)],
    ids=["exact", "within-rtol", "float32"],
)
def test_expect_array_passes(value):
    """Element-wise within `rtol=1e-5, atol=1e-8`, in float64, passes."""
    expect_array(value, EXPECTED, what=WHAT)


def test_expect_array_passes_integer_dtype():
    """Integer and bool arrays are compared after conversion to float64."""
    expect_array(np.array([[1], [0]]), np.array([[1.0], [0.0]]), what=WHAT)
    expect_array(np.array([[True], [False]]), np.array([[1.0], [0.0]]), what=WHAT)


def _with(changes: dict[int, float]) -> np.ndarray:
    value = EXPECTED.copy()
    for index, number in changes.items():
        value[index, 0] = number
    return value


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (EXPECTED.tolist(), "`softmax`: expected ndarray of shape (7, 1), got list"),
        (
            EXPECTED.ravel(),
            "`softmax`: expected ndarray of shape (7, 1), got ndarray of shape (7,) and dtype float64",
        ),
        (
            EXPECTED.astype(complex),
            "`softmax`: expected ndarray of shape (7, 1) of real numbers, got ndarray of shape (7, 1) and dtype complex128",
        ),
        (_with({0: np.nan, 3: np.inf}), "`softmax`: returned NaN or inf in 2 of 7 entries"),
        (
            _with({0: 0.9, 1: -0.1, 6: 0.0}),
            "`softmax`: returned values that differ from the reference solution in 3 of 7 entries",
        ),
        (
            EXPECTED * (1 + 2e-5),
            "`softmax`: returned values that differ from the reference solution in 7 of 7 entries",
        ),
    ],
    ids=["list", "shape", "complex", "non-finite", "three-wrong", "just-outside-rtol"],
)
def test_expect_array_fails(value, message):
    """Type, dtype and shape first, then NaN/inf, then the count of wrong entries."""
    assert failure_message(expect_array, value, EXPECTED, what="`softmax`") == message


def test_expect_array_explicit_shape():
    """`shape` is checked against the value; it must agree with the expected array."""
    expect_array(EXPECTED.copy(), EXPECTED, what=WHAT, shape=(7, 1))
    with pytest.raises(ValueError, match="contradicts"):
        expect_array(EXPECTED.copy(), EXPECTED, what=WHAT, shape=(1, 7))


def test_expect_array_rejects_non_finite_expected():
    """A non-finite expected array is a grader bug (ValueError)."""
    with pytest.raises(ValueError, match="not finite"):
        expect_array(EXPECTED.copy(), _with({2: np.nan}), what=WHAT)


# --------------------------------------------------------------------------- finite / within


def test_expect_finite():
    """Counts NaN and infinite entries; a finite array passes."""
    expect_finite(np.zeros((2, 2)), what=WHAT)
    message = failure_message(expect_finite, np.array([np.nan, -np.inf, 1.0]), what=WHAT)
    assert message == "`f`: returned NaN or inf in 2 of 3 entries"


def test_expect_within():
    """Counts entries outside the (public) closed interval; the bounds themselves pass."""
    expect_within(np.array([0.0, 0.5, 1.0]), 0.0, 1.0, what=WHAT)
    message = failure_message(expect_within, np.array([-0.1, 0.5, 1.5, 2.0]), 0.0, 1.0, what=WHAT)
    assert message == "`f`: returned values outside [0, 1] in 3 of 4 entries"


def test_as_finite_array_checks_type_then_finiteness_then_range():
    """Returns the float64 copy; each failure is the message of the check that found it."""
    array = as_finite_array(np.array([[0, 1]]), what=WHAT, shape=(1, 2), within=(0.0, 1.0))
    assert array.dtype == np.float64 and array.tolist() == [[0.0, 1.0]]
    assert as_finite_array(np.array([5.0]), what=WHAT, shape=(1,)).tolist() == [5.0]
    bad_type = failure_message(as_finite_array, [0.5], what=WHAT, shape=(1,))
    assert bad_type == failure_message(as_array, [0.5], what=WHAT, shape=(1,))
    not_finite = failure_message(as_finite_array, np.array([np.nan, 2.0]), what=WHAT,
                                 shape=(2,), within=(0.0, 1.0))  # NaN is reported before range
    assert not_finite == "`f`: returned NaN or inf in 1 of 2 entries"
    outside = failure_message(as_finite_array, np.array([0.5, 2.0]), what=WHAT, shape=(2,),
                              within=(0.0, 1.0))
    assert outside == "`f`: returned values outside [0, 1] in 1 of 2 entries"


# --------------------------------------------------------------------------- batches


def test_case_labels_number_the_cases():
    assert case_labels(WHAT, 2) == ["`f` (case 1 of 2)", "`f` (case 2 of 2)"]
    assert case_labels(WHAT, 1, note="; a note") == ["`f` (case 1 of 1; a note)"]
    assert case_labels(WHAT, 0) == []


def test_expect_each_checks_every_case_with_its_label():
    """All cases pass silently; tolerances reach the check; the first failing case's label shows."""
    expect_each(expect_float, [1.0, 2.0], [1.0, 2.0], ["a", "b"])
    expect_each(expect_float, [1.05], [1.0], ["a"], rtol=0.1)
    labels = case_labels(WHAT, 3)
    message = failure_message(expect_each, expect_int, [1, 5, 7], [1, 2, 3], labels)
    assert message == "`f` (case 2 of 3): returned a value that differs from the reference solution"


def test_expect_each_stops_at_the_first_failure_and_reads_values_lazily():
    """A generator of values is read one case at a time: nothing after the failing case runs."""
    produced = []

    def values():
        for value in (1, 9, 3):
            produced.append(value)
            yield value

    with pytest.raises(GradingFailure):
        expect_each(expect_int, values(), [1, 2, 3], ["a", "b", "c"])
    assert produced == [1, 9]


def test_expect_each_refuses_batches_of_different_lengths():
    """A grader bug (one expected value too few or too many) is a ValueError, not a pass."""
    with pytest.raises(ValueError):
        expect_each(expect_int, [1, 2], [1, 2, 3], ["a", "b", "c"])
    with pytest.raises(ValueError):
        expect_each(expect_int, [1, 2], [1, 2], ["a"])


# --------------------------------------------------------------------------- no leaks

SECRET = 0.123456789
STUDENT = 0.987654321


def _leaky_calls() -> list[tuple[str, Any]]:
    secret_array = np.full((3, 1), SECRET)
    student_array = np.full((3, 1), STUDENT)
    return [
        ("float-value", lambda: expect_float(STUDENT, SECRET, what=WHAT)),
        ("float-nan", lambda: expect_float(float("nan"), SECRET, what=WHAT)),
        ("float-type", lambda: expect_float([STUDENT], SECRET, what=WHAT)),
        ("float-0d-shape", lambda: expect_float(np.full((1, 1), STUDENT), SECRET, what=WHAT)),
        (
            "float-tight-tolerance",
            lambda: expect_float(STUDENT, SECRET, what=WHAT, rtol=1e-3, atol=1e-4),
        ),
        ("int-value", lambda: expect_int(987654321, 123456789, what=WHAT)),
        ("array-value", lambda: expect_array(student_array, secret_array, what=WHAT)),
        ("array-one-entry", lambda: expect_array(_with({4: STUDENT}), EXPECTED, what=WHAT)),
        ("array-type", lambda: expect_array(student_array.tolist(), secret_array, what=WHAT)),
        (
            "array-non-finite",
            lambda: expect_array(np.full((3, 1), np.inf), secret_array, what=WHAT),
        ),
    ]


@pytest.mark.parametrize(("name", "call"), _leaky_calls(), ids=[name for name, _ in _leaky_calls()])
def test_messages_never_reveal_values_or_tolerances(name, call):
    """No message contains the expected value, the student's value or a tolerance."""
    with pytest.raises(GradingFailure) as info:
        call()
    message = str(info.value)
    forbidden = [
        "123456",
        "1235",
        "987654",
        "9877",
        "1e-05",
        "1e-08",
        "0.001",
        "0.0001",
        "1e-3",
        "1e-4",
    ]
    forbidden += [f"{number:.3g}" for number in EXPECTED.ravel()]
    for text in forbidden:
        assert text not in message, f"{name}: {text!r} leaked into {message!r}"


def test_unsupported_type_names_are_redacted():
    """A returned object whose class is named after an input does not echo it."""
    from autograder.inside.protocol import Unsupported
    from autograder.toolkit.checks import describe

    assert describe(Unsupported("0.12345")) == "Unsupported type #"


# --------------------------------------------------------------------------- partial credit


def test_credit_by_rel_error_gives_full_half_or_none_per_case():
    from autograder.toolkit.checks import PartialCredit, credit_by_rel_error

    credit_by_rel_error([1e-9, 5e-8], what="`g`")  # all below 1e-7: no failure
    with pytest.raises(PartialCredit) as caught:
        credit_by_rel_error([1e-9, 1e-6, 1e-2, float("nan")], what="`g`")
    assert caught.value.fraction == pytest.approx((1 + 0.5 + 0 + 0) / 4)
    message = str(caught.value)
    assert "2 of 4 cases are wrong" in message and "1 of 4 cases are only close" in message
    assert "e-06" not in message and "0.01" not in message  # no error values shown


def test_a_partial_outcome_earns_its_fraction_of_the_points():
    from autograder.gradebook.results import TestOutcome

    assert TestOutcome("t", "q", 8.0, False, "close", partial=0.5).points == 4.0
    assert TestOutcome("t", "q", 8.0, False, "wrong").points == 0.0
    assert TestOutcome("t", "q", 8.0, True).points == 8.0


def test_rel_error_is_cs231n_s():
    from autograder.toolkit.checks import rel_error

    assert rel_error(np.array([1.0, 0.0]), np.array([1.0, 0.0])) == 0.0
    assert rel_error(np.array([1.0]), np.array([3.0])) == pytest.approx(0.5)
    assert rel_error(np.array([1e-12]), np.array([0.0])) == pytest.approx(1e-4)  # 1e-8 floor
