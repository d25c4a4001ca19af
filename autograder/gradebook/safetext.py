"""Text that came from a student or a file name, made safe for every place it goes.

Every such string may hold anything: lone surrogates (``"\\ud800"`` in an
exception message), the undecodable bytes of a file name that is not UTF-8
(Python keeps them as surrogate escapes: a Korean name in CP949 from a Windows
zip), terminal escape sequences, bidirectional overrides, or text a
spreadsheet runs as a formula. Nothing here raises.

* ``utf8(text)``: valid UTF-8, lossless where it can be: surrogate-escaped
  bytes are decoded as UTF-8, else CP949 (the course's Windows encoding),
  else each bad character becomes U+FFFD. ``original(text)`` gives the bytes
  that were there (for the TA log) or None when nothing changed.
* ``shown(text)``: ``utf8`` without control characters (C0 but newline and
  tab, DEL, C1, bidirectional controls): for anything shown to a person.
* ``one_line(text)``: ``shown`` without newlines and tabs (names, ids).
* ``csv_cell(value)``: a string a spreadsheet would read as a formula gets a
  leading apostrophe (``course.spreadsheet``'s rule, the one every CSV export uses).
* ``code_span(text)``: any text as one inert Markdown code span (no emphasis, link,
  HTML or entity inside one; the fence is longer than any backtick run in it).
* ``capped(text, limit)``: at most ``limit`` characters, with a note of the rest.
"""

from __future__ import annotations

import re
from typing import Any

from course.spreadsheet import spreadsheet_cell

_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPED = re.compile("[\udc80-\udcff]")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_LINE_BREAKS = re.compile("[\t\n\r\u2028\u2029\x85]")


def utf8(value: Any) -> str:
    """``value`` (a string, or bytes) as a string that encodes to UTF-8."""
    if isinstance(value, bytes):
        text = value.decode("utf-8", "surrogateescape")
    else:
        text = value if isinstance(value, str) else str(value)
    if not _SURROGATE.search(text):
        return text
    if _ESCAPED.search(text) and not _SURROGATE.search(_ESCAPED.sub("", text)):
        raw = text.encode("utf-8", "surrogateescape")
        for encoding in ("utf-8", "cp949"):
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError:
                continue
    return _SURROGATE.sub("\ufffd", text)


def original(text: Any) -> str | None:
    """The bytes ``utf8`` could not keep as they were, as hex (for the TA log), or None."""
    if not isinstance(text, str) or not _SURROGATE.search(text):
        return None
    return text.encode("utf-8", "surrogatepass").hex()


def shown(text: Any) -> str:
    """``utf8(text)`` without control characters (newlines and tabs kept)."""
    return _CONTROL.sub("", utf8(text))


def one_line(text: Any) -> str:
    """``shown(text)`` on one line: for names and ids."""
    return _LINE_BREAKS.sub(" ", shown(text))


def csv_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text, never evaluates (numbers stay numbers)."""
    return spreadsheet_cell(value)


def code_span(value: Any) -> str:
    """``value`` on one line as a Markdown code span: nothing inside is Markdown or HTML."""
    text = " ".join(_CONTROL.sub(" ", utf8(value)).split()) or " "
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text[0] in "` " or text[-1] in "` " else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def capped(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n... [{len(text) - limit} more characters not kept]"
