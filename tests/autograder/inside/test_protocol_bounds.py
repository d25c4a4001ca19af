"""The trusted side's work on one reply frame is linear in its size (issue 10, part 3).

A crafted frame far under the cap (an unterminated string of escaped quotes)
made the old nesting check's regular expression quadratic: 256 KiB took
minutes. Each case runs in a fresh interpreter with a generous deadline (the
work must take milliseconds; the old code took minutes), so a loaded machine
cannot fail it.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

CASES = {
    "escaped-quotes-unterminated": 'b\'{"a":"\' + b\'\\\\"\' * (128 * 1024)',
    "escaped-quotes-lone-backslash": 'b\'{"a":"\' + b\'\\\\"\' * (128 * 1024) + b\'\\\\\'',
    "quotes-only": "b'\"' * (256 * 1024)",
    "backslashes-and-quotes": "b'[\"' + b'\\\\\\\\\"' * (64 * 1024)",
    "deep-brackets": "b'[' * (256 * 1024)",
    "many-strings-deep": "b'[\"x\",' * (40 * 1024) + b']' * (40 * 1024)",
}


@pytest.mark.parametrize("expression", CASES.values(), ids=CASES.keys())
def test_crafted_frame_is_parsed_or_refused_quickly(expression):
    code = ("from autograder.inside.protocol import ProtocolError, parse_message\n"
            f"payload = {expression}\n"
            "assert len(payload) <= 8 * 1024 * 1024\n"
            "try:\n    parse_message(payload)\nexcept ProtocolError:\n    pass\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_nesting_is_still_measured_outside_strings():
    from autograder.inside.protocol import ProtocolError, parse_message

    assert parse_message(b'{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}')
    with pytest.raises(ProtocolError, match="nested"):
        parse_message(b'{"a":' + b"[" * 100 + b"]" * 100 + b"}")
    assert parse_message(b'{"a":' + b"[" * 40 + b'"\\"]"' + b"]" * 40 + b"}")["a"]
