"""The Blackboard Grade Center upload file (Work Offline -> Upload).

Blackboard matches rows on ``Username`` (at this university the student id)
and creates a Grade Center column for every other header it does not know.
Every field is quoted, as Blackboard's comma-delimited upload requires.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from course.numbers import two_places
from course.policy import Policy
from course.scoring import StudentGrade


def blackboard_rows(policy: Policy, grades: Sequence[StudentGrade]) -> list[list[str]]:
    """``Username``, one column per component (weighted points), deduction, total, letter."""
    header = ["Username", *(c.name.capitalize() for c in policy.components)]
    rows = [header + ["Attendance Deduction", "Final Total", "Final Letter Grade"]]
    for grade in grades:
        rows.append(
            [
                grade.student.student_id,
                *(two_places(c.weighted) for c in grade.components),
                two_places(grade.deduction),
                two_places(grade.total),
                grade.letter,
            ]
        )
    return rows


def blackboard_csv(policy: Policy, grades: Sequence[StudentGrade]) -> str:
    """The upload file's text: comma-delimited, every field quoted."""
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_ALL).writerows(blackboard_rows(policy, grades))
    return buffer.getvalue()
