"""Reading one input CSV into checked cells, collecting problems instead of raising.

Every helper appends :class:`~course.errors.InputProblem` s to a shared list
so that the loader can report every problem in every file at once.  Row
numbers are line numbers in the file (the header is line 1).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TextIO

from course.errors import InputProblem
from course.numbers import NumberError, exact_count, exact_number, plain

Problems = list[InputProblem]


@dataclass(frozen=True, slots=True)
class Row:
    """One data row: its line number and its cells by column (whitespace stripped)."""

    line: int
    cells: dict[str, str]


@dataclass(frozen=True, slots=True)
class CsvTable:
    file: str
    header: tuple[str, ...]
    rows: tuple[Row, ...]

    def problem(self, problems: Problems, row: int | None, column: str | None, msg: str) -> None:
        problems.append(InputProblem(self.file, row, column, msg))

    def require(self, problems: Problems, columns: Collection[str], *, only: bool = False) -> bool:
        """Check that ``columns`` exist (and, with ``only``, that no others do)."""
        ok = True
        for column in columns:
            if column not in self.header:
                self.problem(problems, 1, column, "missing column")
                ok = False
        for column in self.header if only else ():
            if column not in columns:
                self.problem(problems, 1, column, "unexpected column (not used by the policy)")
                ok = False
        return ok

    def by_student(self, problems: Problems, roster: Collection[str] | None) -> dict[str, Row]:
        """Rows keyed by student id; empty, unknown and duplicate ids are problems."""
        found: dict[str, Row] = {}
        for row in self.rows:
            student_id = row.cells["student_id"]
            if not student_id:
                self.problem(problems, row.line, "student_id", "empty student id")
            elif roster is not None and student_id not in roster:
                self.problem(
                    problems, row.line, "student_id", f"'{student_id}' is not in the roster"
                )
            elif student_id in found:
                first = found[student_id].line
                self.problem(
                    problems,
                    row.line,
                    "student_id",
                    f"duplicate row for '{student_id}' (first on line {first})",
                )
            else:
                found[student_id] = row
        return found

    def absent(self, problems: Problems, roster: Collection[str], rows: dict[str, Row]) -> None:
        """Every roster student without a row is a problem."""
        for student_id in roster:
            if student_id not in rows:
                self.problem(
                    problems, None, "student_id", f"roster student '{student_id}' has no row"
                )


def read_csv(path: Path, problems: Problems) -> CsvTable | None:
    """Read ``path``; None (with a problem) if it cannot be read as a CSV with a header."""
    file = str(path)
    try:
        text = decode_csv(path.read_bytes())
        return _parse(file, io.StringIO(text, newline=""), problems)
    except OSError as error:
        problems.append(InputProblem(file, None, None, f"cannot read: {error.strerror or error}"))
    except UnicodeDecodeError as error:
        line = error.object[: error.start].count(b"\n") + 1
        problems.append(
            InputProblem(
                file,
                line,
                None,
                "neither UTF-8 nor CP949 (Korean Windows) text; in Excel use"
                ' File > Save As > "CSV UTF-8 (Comma delimited)"',
            )
        )
    except csv.Error as error:
        problems.append(InputProblem(file, None, None, f"not a valid CSV: {error}"))
    return None


def decode_csv(raw: bytes) -> str:
    """UTF-8 (with or without BOM), else CP949, the encoding Korean Excel saves "CSV" in.

    Raises the UTF-8 UnicodeDecodeError (its position names the bad line) when neither fits.
    """
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        try:
            return raw.decode("cp949")
        except UnicodeDecodeError:
            raise error from None


def _parse(file: str, handle: TextIO, problems: Problems) -> CsvTable | None:
    reader = csv.reader(handle)
    header = tuple(cell.strip() for cell in next(reader, []))
    if not any(header):
        problems.append(InputProblem(file, 1, None, "empty file: no header row"))
        return None
    seen: set[str] = set()
    for column in header:
        if not column or column in seen:
            problems.append(InputProblem(file, 1, column, "empty or duplicate column name"))
            return None
        seen.add(column)
    rows: list[Row] = []
    last_line = reader.line_num
    for fields in reader:
        start, last_line = last_line + 1, reader.line_num  # a quoted cell may span lines
        if not any(field.strip() for field in fields):
            continue
        if len(fields) != len(header):
            problems.append(
                InputProblem(
                    file, start, None, f"{len(fields)} fields, but the header has {len(header)}"
                )
            )
            continue
        rows.append(Row(start, {c: f.strip() for c, f in zip(header, fields, strict=True)}))
    return CsvTable(file, header, tuple(rows))


def parse_number(
    table: CsvTable, problems: Problems, row: Row, column: str, maximum: Fraction | None
) -> Fraction | None:
    """The cell as an exact non-negative number <= maximum, or None with a problem."""
    text = row.cells[column]
    try:
        number = exact_number(text)
    except NumberError as error:
        table.problem(problems, row.line, column, str(error))
        return None
    if number < 0:
        table.problem(problems, row.line, column, f"{text} is negative")
        return None
    if maximum is not None and number > maximum:
        table.problem(problems, row.line, column, f"{text} is above the maximum {plain(maximum)}")
        return None
    return number


def parse_count(table: CsvTable, problems: Problems, row: Row, column: str) -> int | None:
    """The cell as a whole number >= 0 (absences, late days), or None with a problem."""
    try:
        return exact_count(row.cells[column])
    except NumberError as error:
        table.problem(problems, row.line, column, str(error))
        return None
