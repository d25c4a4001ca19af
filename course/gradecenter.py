"""Blackboard Grade Center files: the download ("Work Offline" -> Download) and uploads.

Blackboard Learn writes the download either comma-delimited (``.csv``) or
tab-delimited (``.xls``, really UTF-16 text with a BOM). Its header names
each column like ``"HW1 [Total Pts: 100 Score] |123456"``: the column's name,
its points and display, and after ``|`` the column id. An upload whose header
carries that exact text (id included) *updates* the column; any other header
creates a new column. Rows are matched on ``Username``.

So an upload built from a download repeats the download's identifying
headers and the exact header of every column it updates, in the download's
own format (delimiter, encoding), every field quoted; a column not in the
download is new and gets ``Name [Total Pts: N Score]``. Stdlib only: both
``course`` and ``autograder`` write uploads with it.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from course.numbers import NumberError, exact_number
from course.spreadsheet import spreadsheet_row

IDENTIFYING = ("Last Name", "First Name", "Username", "Student ID")
HEADER = re.compile(r"^(?P<name>.*?)\s*\[Total Pts:\s*(?:up to\s*)?(?P<points>[\d.]+)"
                    r"\s*(?P<display>[A-Za-z /]*)\]\s*(?:\|\s*(?P<id>\d+))?\s*$")


class GradeCenterError(ValueError):
    """The Grade Center file cannot be read or has no usable columns."""


@dataclass(frozen=True)
class Column:
    header: str  # exact, as downloaded
    name: str
    points: Fraction | None
    column_id: str


@dataclass(frozen=True)
class GradeCenter:
    file: str
    header: tuple[str, ...]
    rows: tuple[dict[str, str], ...]
    delimiter: str
    encoding: str  # "utf-16" (the .xls download) or "utf-8-sig"/"utf-8"

    @property
    def columns(self) -> list[Column]:
        found = []
        for text in self.header:
            match = HEADER.match(text)
            if match:
                found.append(Column(text, match["name"].strip(),
                                    _points(self.file, text, match["points"]), match["id"] or ""))
            elif "|" in text:
                name, _, column_id = text.rpartition("|")
                found.append(Column(text, name.strip(), None, column_id.strip()))
        return found

    def find(self, name: str) -> Column | None:
        """The column whose name is ``name`` (case, spaces and ``_``/``-`` ignored)."""
        matches = [c for c in self.columns if _key(c.name) == _key(name)]
        if len(matches) > 1:
            raise GradeCenterError(f"{self.file}: several columns are named {name!r}: "
                                   + "; ".join(c.header for c in matches))
        return matches[0] if matches else None

    def usernames(self) -> dict[str, dict[str, str]]:
        return {row.get("Username", "").strip(): row for row in self.rows
                if row.get("Username", "").strip()}


def read_grade_center(path: Path) -> GradeCenter:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise GradeCenterError(f"{path}: cannot read: {error.strerror or error}") from None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding, text = "utf-16", raw.decode("utf-16")
    else:
        try:
            encoding = "utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "utf-8"
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise GradeCenterError(f"{path}: neither UTF-16 (Blackboard's .xls download) nor "
                                   "UTF-8 text; download it again from Work Offline") from None
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    if not rows or "Username" not in [c.strip() for c in rows[0]]:
        raise GradeCenterError(f"{path}:1: no 'Username' column: not a Grade Center download")
    header = tuple(c.strip() for c in rows[0])
    body = tuple(dict(zip(header, (c.strip() for c in row), strict=False))
                 for row in rows[1:] if any(c.strip() for c in row))
    center = GradeCenter(str(path), header, body, delimiter, encoding)
    _ = center.columns  # a header whose points cannot be read is an error now, not later
    return center


def new_column_header(name: str, points: Fraction | int | None) -> str:
    """A new Grade Center column: numeric when it has points, else text."""
    if points is None:
        return name
    return f"{name} [Total Pts: {_plain(Fraction(points))} Score]"


def upload_text(grade_center: GradeCenter | None, header: list[str],
                rows: list[list[str]]) -> tuple[str, str]:
    """(text, encoding) of an upload file in the download's format (else quoted CSV, UTF-8)."""
    delimiter = grade_center.delimiter if grade_center else ","
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(spreadsheet_row(header))  # names and ids came from people: never formulas
    writer.writerows(spreadsheet_row(row) for row in rows)
    encoding = grade_center.encoding if grade_center else "utf-8"
    return buffer.getvalue(), encoding


def upload_name(grade_center: GradeCenter | None) -> str:
    return "blackboard_upload.xls" if grade_center and grade_center.delimiter == "\t" \
        else "blackboard_upload.csv"


def identifying(grade_center: GradeCenter | None) -> list[str]:
    if grade_center is None:
        return ["Username"]
    return [c for c in grade_center.header if c in IDENTIFYING]


def _points(file: str, header: str, text: str) -> Fraction:
    try:
        return exact_number(text)
    except NumberError as error:
        raise GradeCenterError(f"{file}:1: column {header[:80]!r}: [Total Pts: ...]: "
                               f"{error}") from None


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name).casefold()


def _plain(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{float(value):g}"
