"""The final grades' Blackboard Grade Center upload (Work Offline -> Upload).

With the Grade Center file the instructor downloaded (``course.gradecenter``),
every column that already exists there (matched by name: a component such as
``Midterm``, ``Final Total``, ``Final Letter Grade``) is written under its exact
downloaded header, ``|<column id>`` included, so the upload updates it; rows
are the download's students (identifying columns as downloaded) and the file
has the download's format. Without it, or for a column not in it, a new column:
``Name [Total Pts: N Score]`` (N = the component's weight, 100 for the total),
the letter as text. Every field is quoted. Rows match on ``Username`` (here:
the student id).
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from course.gradecenter import GradeCenter, identifying, new_column_header, upload_text
from course.numbers import two_places
from course.policy import Policy
from course.scoring import StudentGrade

HUNDRED = Fraction(100)


def blackboard_rows(
    policy: Policy, grades: Sequence[StudentGrade], center: GradeCenter | None = None
) -> list[list[str]]:
    """Identifying columns, one per component (weighted points), deduction, total, letter."""
    wanted = [
        *((c.name.capitalize(), c.weight) for c in policy.components),
        ("Attendance Deduction", None),
        ("Final Total", HUNDRED),
        ("Final Letter Grade", None),
    ]
    header = identifying(center)
    for name, points in wanted:
        existing = center.find(name) if center else None
        header.append(existing.header if existing else new_column_header(name, points))
    known = center.usernames() if center else None
    rows = [header]
    for grade in grades:
        values = [
            *(two_places(c.weighted) for c in grade.components),
            two_places(grade.deduction),
            two_places(grade.total),
            grade.letter,
        ]
        student = grade.student.student_id
        if known is None:
            rows.append([student, *values])
        elif student in known:
            fields = header[: len(header) - len(values)]
            rows.append([*(known[student].get(h, "") for h in fields), *values])
    return rows


def blackboard_upload(
    policy: Policy, grades: Sequence[StudentGrade], center: GradeCenter | None = None
) -> tuple[str, str]:
    """The upload file's text and encoding (the download's format, else quoted UTF-8 CSV)."""
    rows = blackboard_rows(policy, grades, center)
    return upload_text(center, rows[0], rows[1:])


def blackboard_csv(policy: Policy, grades: Sequence[StudentGrade]) -> str:
    """The upload file's text without a Grade Center file: comma-delimited, every field quoted."""
    return blackboard_upload(policy, grades)[0]
