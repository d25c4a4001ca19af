"""The per-assignment Blackboard upload: ``OUT/blackboard_upload.csv`` (or ``.xls``).

Built from ``OUT/gradebook.csv`` (overrides applied) and the Grade Center file
the instructor downloaded (``course.gradecenter`` knows its format): the
download's identifying columns, then the assignment's column with its exact
header (``HW1 [Total Pts: 100 Score] |123456``), so uploading updates that
column. Scores are scaled to the column's points when they differ from the
assignment's maximum. Without a column of that name, a new one
``<assignment> [Total Pts: <max> Score]``. Lateness is not applied here (the
course policy decides it).
"""

from __future__ import annotations

import csv
from fractions import Fraction
from pathlib import Path

from course.gradecenter import (
    GradeCenterError,
    identifying,
    new_column_header,
    read_grade_center,
    upload_name,
    upload_text,
)

from ..errors import AutograderError


def write_assignment_upload(out: Path, assignment: str, grade_center_file: Path,
                            column: str | None = None) -> tuple[Path, list[str]]:
    """Write the upload; return its path and the ids not in the Grade Center (skipped)."""
    try:
        center = read_grade_center(grade_center_file)
        target = center.find(column or assignment)
    except GradeCenterError as exc:
        raise AutograderError(str(exc)) from None
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
