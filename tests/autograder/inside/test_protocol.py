"""The wire format: values cross as plain data and come back as fresh trusted objects."""

from __future__ import annotations

import json
import os
import warnings

import numpy as np
import pytest

from autograder.inside import protocol
from autograder.inside.protocol import ProtocolError, Unsupported, decode, encode


def roundtrip(value):
    """Through a whole frame's payload, as values cross the pipes."""
    return decode(protocol.parse_message(protocol.dumps({"v": encode(value)}))["v"])


@pytest.mark.parametrize("value", [None, True, 3, -2.5, "text", [1, [2.0]], (1, "a"),
                                   {"k": (1, 2)}, 1 + 2j], ids=repr)
def test_plain_values_roundtrip(value):
    """Builtin values come back equal and of the same type."""
    back = roundtrip(value)
    assert back == value and type(back) is type(value)


@pytest.mark.parametrize("array", [np.arange(6.0).reshape(2, 3), np.array(2.5), np.zeros((0, 3)),
                                   np.array([True, False]), np.arange(4, dtype=">i4"),
                                   np.asfortranarray(np.eye(3, dtype=np.float32))],
                         ids=["2d", "0d", "empty", "bool", "bigendian", "fortran"])
def test_arrays_roundtrip_as_fresh_native_arrays(array):
    """Arrays keep shape, values and kind; they come back native, C-ordered and writable."""
    back = roundtrip(array)
    assert type(back) is np.ndarray and back.shape == array.shape
    assert back.dtype.isnative and back.flags.c_contiguous and back.flags.writeable
    assert np.array_equal(back, array)


def test_numpy_scalars_keep_their_type():
    """np.float64 stays np.float64 (a float is asked for: a NumPy scalar is fine)."""
    back = roundtrip([np.float64(0.25), np.int64(7), np.bool_(True), np.float32(1.5)])
    assert [type(v) for v in back] == [np.float64, np.int64, np.bool_, np.float32]


def test_non_finite_floats_roundtrip():
    """NaN and infinities survive, so a grader can say 'contains NaN'."""
    back = roundtrip([float("nan"), float("inf"), float("-inf")])
    assert np.isnan(back[0]) and back[1] == np.inf and back[2] == -np.inf


@pytest.mark.parametrize("value, expected", [
    (lambda: np.matrix([[1.0], [2.0], [3.0]]), np.array([[1.0], [2.0], [3.0]])),
    (lambda: np.matrix([[1, 2]], dtype=np.int32), np.array([[1, 2]], dtype=np.int32)),
    (np.ma.masked_array([1.0, 2.0]), np.array([1.0, 2.0])),
    (np.ma.masked_array([1.0, 2.0], mask=[False, True]), np.array([1.0, np.nan])),
    (np.arange(3, dtype=np.longdouble), np.arange(3.0)),
], ids=["matrix-column", "matrix-int", "masked", "masked-entry-is-nan", "longdouble-array"])
def test_numpy_array_subclasses_arrive_as_plain_arrays(value, expected):
    """NumPy's own subclasses (np.matrix, masked arrays) are converted on the student side;
    the trusted side gets a plain ndarray of the same shape (and dtype, or float64)."""
    back = roundtrip(_made(value))
    assert type(back) is np.ndarray and back.shape == expected.shape
    assert back.dtype == expected.dtype
    np.testing.assert_array_equal(back, expected)


@pytest.mark.parametrize("scalar", [np.float16(0.5), np.float32(0.5), np.longdouble(0.5),
                                    np.int8(3), np.uint64(3), np.int16(-3)], ids=repr)
def test_numpy_real_scalars_of_any_dtype_arrive_as_numbers(scalar):
    """A NumPy scalar of any real dtype comes back as a NumPy scalar a float check accepts."""
    back = roundtrip(scalar)
    assert isinstance(back, np.generic) and back.dtype.kind in "iuf" and back.dtype.itemsize <= 8
    assert float(back) == float(scalar)


class LyingFloat(float):
    def __eq__(self, other):
        return True


class LyingArray(np.ndarray):
    def __eq__(self, other):
        return np.ones_like(self, dtype=bool)


class ArrayLike:
    def __array__(self, dtype=None, copy=None):
        return np.zeros(3)


@pytest.mark.parametrize("value, type_name", [
    (LyingFloat(1.0), "LyingFloat"),
    (np.zeros(3).view(LyingArray), "LyingArray"),
    (ArrayLike(), "ArrayLike"),
    (np.array([object()]), "ndarray[O]"),
    (np.array(["a"]), "ndarray[U]"),
    (np.ma.masked_array(np.array(["a"])), "ndarray[U]"),
    (lambda: np.matrix([[1 + 0j]], dtype=object), "ndarray[O]"),
    ({1: 2}, "dict"),
], ids=["float-subclass", "ndarray-subclass", "__array__", "object-array", "str-array",
        "masked-str", "object-matrix", "non-str-keys"])
def test_imitations_become_unsupported(value, type_name):
    """Subclasses and array-likes never pass as what they imitate."""
    assert roundtrip(_made(value)) == Unsupported(type_name)


def _made(value):
    """``value``, or what it makes when it is a function (np.matrix warns when made)."""
    if callable(value) and not isinstance(value, type) and value.__class__.__name__ == "function":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            return value()
    return value


@pytest.mark.parametrize("data, message", [
    ({"$t": "ndarray", "dtype": "|O", "shape": [1], "raw": memoryview(b"")}, "not numeric"),
    ({"$t": "ndarray", "dtype": "<f8", "shape": [3], "raw": memoryview(bytes(8))}, "does not match"),
    ({"$t": "ndarray", "dtype": "<f8", "shape": [-1], "raw": memoryview(b"")}, "bad array shape"),
    ({"$t": "pickle", "v": "gASV"}, "unknown tag"),
    ({"$t": "float", "v": "1e5"}, "non-finite"),
], ids=["object-dtype", "short-data", "negative-shape", "unknown-tag", "fake-float"])
def test_decoder_rejects_malformed_values(data, message):
    """A reply that does not follow the protocol is refused, never guessed at."""
    with pytest.raises(ProtocolError, match=message):
        decode(data)


@pytest.mark.parametrize("payload", [
    b'{"v":{"$t":"ndarray","dtype":"<f8","shape":[1],"at":[0,8]}}\0' + bytes(7),
    b'{"v":{"$t":"ndarray","dtype":"<f8","shape":[1],"at":[-8,8]}}\0' + bytes(16),
    b'{"v":{"$t":"ndarray","dtype":"<f8","shape":[1],"at":[0,"8"]}}\0' + bytes(8),
    b'{"v":{"$t":"npscalar","dtype":"<f8","shape":[],"at":[9999999999,8]}}',
], ids=["past-the-end", "negative-offset", "not-int", "no-blob"])
def test_array_spans_outside_the_blob_are_refused(payload):
    """A reply's array must lie inside its own frame: a bad span is a protocol error."""
    with pytest.raises(ProtocolError, match="outside the message"):
        protocol.parse_message(payload)


def test_a_frame_without_arrays_is_plain_json():
    """Messages without arrays are plain JSON text (no NUL, no blob)."""
    assert protocol.dumps({"id": 1, "v": encode([1.5, "x"])}) == b'{"id":1,"v":[1.5,"x"]}'


def test_student_dicts_cannot_pose_as_arrays():
    """A student's dict with the keys of an array stays a dict: its keys never become a
    JSON object of the message, so the parser never reads them as a span."""
    value = {"$t": "ndarray", "dtype": "<f8", "shape": [1], "at": [0, 8], "raw": 1}
    assert roundtrip(value) == value


def test_depth_is_capped_before_parsing():
    """Deeply nested JSON is refused by the depth scan, before json recurses."""
    payload = b"{\"v\":" + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(ProtocolError, match="nested too deeply"):
        protocol.parse_message(payload)


def test_brackets_inside_strings_do_not_count_as_depth():
    """Only structure counts: a string full of brackets is fine."""
    assert protocol.parse_message(json.dumps({"s": "[" * 1000}).encode()) == {"s": "[" * 1000}


def test_oversized_frame_is_refused_before_reading():
    """The length header alone decides: a frame over the cap is not read."""
    read, write = os.pipe()
    try:
        os.write(write, protocol.HEADER.pack(10**9))
        with pytest.raises(ProtocolError, match="exceeds"):
            protocol.read_frame(read, max_size=1024)
    finally:
        os.close(read)
        os.close(write)


def test_frames_roundtrip_through_a_pipe():
    read, write = os.pipe()
    try:
        protocol.write_frame(write, {"id": 1, "value": encode(np.ones((2, 1)))})
        message = protocol.read_frame(read)
        assert message["id"] == 1 and np.array_equal(decode(message["value"]), np.ones((2, 1)))
    finally:
        os.close(read)
        os.close(write)

