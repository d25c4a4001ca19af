"""The attendance sheet, in either form the course keeps it.

* ``student_id,absences``: a count per student;
* per class, the way attendance is taken: ``student_id,<class 1>,<class 2>,...``
  with one mark per cell, ``P`` present, ``A`` absent (one absence), ``E``
  excused (none), ``L`` late (present, unless the policy's
  ``lates_per_absence`` says every that many lates count one absence). Marks
  are case-insensitive; a blank or unknown cell is a problem naming its row
  and column. Both forms give the same absences.

A ``name`` column beside the ids (a sheet kept by hand has one) is not a class.
"""

from __future__ import annotations

from pathlib import Path

from course.csvtable import CsvTable, Problems, Row, parse_count, read_csv


def is_name_column(column: str) -> bool:
    """The students' names kept beside the ids: read by nobody (the roster has them)."""
    return column.strip().casefold() == "name"


def load_attendance(
    path: Path, roster: list[str] | None, problems: Problems, lates_per_absence: int = 0
) -> dict[str, int]:
    """``student_id,absences``, or a per-class sheet ``student_id,<class>,...`` of
    ``ATTENDANCE_MARKS``: absences = A cells (+ L cells // ``lates_per_absence`` if set)."""
    table = read_csv(path, problems)
    if table is None or not table.require(problems, ("student_id",)):
        return {}
    classes = [c for c in table.header if c != "student_id" and not is_name_column(c)]
    per_class = classes != ["absences"]
    if per_class and not classes:
        table.problem(problems, 1, None, "no class columns (or use student_id,absences)")
        return {}
    rows = table.by_student(problems, roster)
    if roster is not None:
        table.absent(problems, roster, rows)
    counts: dict[str, int | None] = {}
    for sid, row in rows.items():
        if per_class:
            counts[sid] = _count_marks(table, problems, row, classes, lates_per_absence)
        else:
            counts[sid] = parse_count(table, problems, row, "absences")
    return {sid: count for sid, count in counts.items() if count is not None}


#: The cells of a per-class attendance sheet: present, absent, excused (no absence), late.
ATTENDANCE_MARKS = ("P", "A", "E", "L")


def _count_marks(
    table: CsvTable, problems: Problems, row: Row, classes: list[str], lates_per_absence: int
) -> int | None:
    marks = []
    for column in classes:
        mark = row.cells[column].upper()
        if mark not in ATTENDANCE_MARKS:
            what = "empty cell" if not mark else f"'{row.cells[column]}' is not a mark"
            table.problem(
                problems, row.line, column, f"{what}: write P, A, E or L (present, absent, "
                "excused, late)"
            )
        marks.append(mark)
    if any(m not in ATTENDANCE_MARKS for m in marks):
        return None
    late = marks.count("L") // lates_per_absence if lates_per_absence else 0
    return marks.count("A") + late
