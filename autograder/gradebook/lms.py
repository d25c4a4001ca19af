"""The per-assignment Blackboard upload: ``OUT/blackboard_upload.csv`` (or ``.xls``).

Built from ``OUT/gradebook.csv`` (overrides applied) and the Grade Center file
the instructor downloaded (``course.gradecenter`` knows its format): the
download's identifying columns, then the assignment's column with its exact
header (``HW1 [Total Pts: 100 Score] |123456``), so uploading updates that
column (Blackboard matches columns by the id after ``|``; a header without one
creates a new column). The column: ``--blackboard-column`` if given, else the one
named like the assignment's Blackboard title (the receipts' ``Assignment:``
line, e.g. ``HW1_Perceptrons``), else the one named like the assignment
(``hw1``), else the only one whose name starts with it as a word
(``HW1_Perceptrons`` for ``hw1``; several such: an error asking for the column). Scores are scaled to the column's points when they differ from the
assignment's maximum. Only when no column matches, a new one
``<assignment> [Total Pts: <max> Score]``. Lateness is not applied here (the
course policy decides it).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

from course.gradecenter import (
    Column,
    GradeCenter,
    GradeCenterError,
    identifying,
    new_column_header,
    read_grade_center,
    upload_name,
    upload_text,
)

from ..errors import AutograderError


def check_grade_center(grade_center_file: Path, column: str | None = None) -> GradeCenter:
    """Read the Grade Center file and find ``column`` in it, if named (before grading: a
    wrong file or a column name with a typo stops the run at once, not after the batch)."""
    try:
        center = read_grade_center(grade_center_file)
        if column is not None and center.find(column) is None:
            columns = "; ".join(c.header for c in center.columns if c.points is not None)
            raise GradeCenterError(f"{grade_center_file}: no column named {column!r} "
                                   f"(its graded columns: {columns or 'none'})")
    except GradeCenterError as exc:
        raise AutograderError(f"--blackboard-grade-center: {exc}") from None
    return center


def target_column(center: GradeCenter, assignment: str, column: str | None,
                  titles: Iterable[str] = ()) -> Column | None:
    """The column to update: ``column``, else a Blackboard title's, else the assignment's."""
    names = [column] if column else [*dict.fromkeys(t for t in titles if t), assignment]
    try:
        for name in names:
            found = center.find(name)
            if found is not None:
                return found
    except GradeCenterError as exc:
        raise AutograderError(str(exc)) from None
    if column:
        return None
    # no receipts (plain files): "HW1_Perceptrons" is hw1's column when it is the only one
    # whose name starts with the assignment's as a word ("HW10 ..." does not)
    starts = [c for c in center.columns if c.points is not None
              and re.split(r"[\s_\-:.]+", c.name.strip())[0].casefold() == assignment.casefold()]
    if len(starts) > 1:
        raise AutograderError(
            f"{center.file}: several columns could be {assignment}'s: "
            + "; ".join(c.header for c in starts) + "; name one with --blackboard-column")
    return starts[0] if starts else None


def write_assignment_upload(out: Path, assignment: str, grade_center_file: Path,
                            column: str | None = None,
                            titles: Iterable[str] = ()) -> tuple[Path, list[str]]:
    """Write the upload; return its path and the ids not in the Grade Center (skipped)."""
    center = check_grade_center(grade_center_file, column)
    target = target_column(center, assignment, column, titles)
    with (out / "gradebook.csv").open(newline="", encoding="utf-8") as handle:
        book = list(csv.DictReader(handle))
    maximum = Fraction(book[0]["max_score"]) if book else Fraction(100)
    points = target.points if target and target.points else maximum
    header = [*identifying(center),
              target.header if target else new_column_header(column or assignment, maximum)]
    students = center.usernames()
    rows, skipped = [], []
    for row in book:
        known = students.get(row["student_id"])
        if known is None:
            skipped.append(row["student_id"])
            continue
        score = Fraction(row["score"]) / Fraction(row["max_score"]) * points
        rows.append([*(known.get(h, "") for h in header[:-1]), _number(score)])
    text, encoding = upload_text(center, header, rows)
    path = out / upload_name(center)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(text.encode(encoding))
    temporary.replace(path)
    return path, skipped


def _number(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{float(value):.2f}"
