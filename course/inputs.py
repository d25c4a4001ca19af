"""Loading and validating every input file into immutable records.

:func:`load_inputs` reads the roster, the autograder gradebooks, scores,
quizzes, attendance and (optionally) late days, checks them against the
policy and either returns :class:`Inputs` or raises one
:class:`~course.errors.InputErrors` listing every problem in every file.
Nothing here decides a grade: a missing score the policy allows is kept as
``None`` and turned into 0 (with a warning) by :mod:`course.scoring`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from course.attendance import is_name_column, load_attendance
from course.csvtable import CsvTable, Problems, Row, parse_count, parse_number, read_csv
from course.errors import InputErrors, InputProblem
from course.policy import Missing, Policy, Source

#: The statuses the autograder writes in ``gradebook.csv``.
GRADEBOOK_STATUSES = ("graded", "invalid", "error", "timeout", "missing")
GRADEBOOK_COLUMNS = ("student_id", "status", "score", "max_score")
#: Columns after the questions (``grade --deadline``): not questions.
GRADEBOOK_EXTRA = ("submitted_at", "late_days")
#: A score cell that says "excused": the item (or component) is left out and reweighted.
EXCUSED = "EX"
Cell = Fraction | None | str  # a number, None (missing) or EXCUSED
_SAFE_ID = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")


@dataclass(frozen=True, slots=True)
class Student:
    student_id: str
    name: str


@dataclass(frozen=True, slots=True)
class GradebookRow:
    """One student's row of an autograder gradebook (points per question kept for reports)."""

    status: str
    score: Fraction
    max_score: Fraction
    questions: tuple[tuple[str, Fraction], ...] = ()
    late_days: int | None = None  # the autograder's late_days column, when it has one


@dataclass(frozen=True, slots=True)
class Gradebook:
    assignment: str
    file: str
    rows: Mapping[str, GradebookRow]


@dataclass(frozen=True, slots=True)
class Inputs:
    """Everything the scoring needs, validated; ``None`` marks a missing score."""

    roster: tuple[Student, ...]
    gradebooks: tuple[Gradebook, ...] = ()
    scores_file: str = ""
    scores: Mapping[str, Mapping[str, Cell]] = field(default_factory=dict)
    quizzes_file: str = ""
    quiz_names: tuple[str, ...] = ()
    quizzes: Mapping[str, tuple[Cell, ...]] = field(default_factory=dict)
    absences: Mapping[str, int] = field(default_factory=dict)
    late_days: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    # assignment -> (file, student -> rubric column -> cell)
    rubrics: Mapping[str, tuple[str, Mapping[str, Mapping[str, Cell]]]] = field(
        default_factory=dict
    )


def assignment_name(path: Path) -> str:
    """``grading/hw1/gradebook.csv`` -> ``hw1``; ``hw1_gradebook.csv`` -> ``hw1``."""
    if path.name == "gradebook.csv":
        return path.parent.resolve().name
    return path.stem.removesuffix("_gradebook")


def load_inputs(
    policy: Policy,
    *,
    roster: Path,
    homework: Sequence[Path] = (),
    scores: Path | None = None,
    quizzes: Path | None = None,
    attendance: Path | None = None,
    late_days: Path | None = None,
    rubrics: Mapping[str, Path] | None = None,
) -> Inputs:
    """Read and check every input; raise InputErrors listing all problems, or return Inputs."""
    problems: Problems = []
    rubrics = rubrics or {}
    _check_files_match_policy(policy, problems, homework, scores, quizzes, attendance, late_days)
    students = _load_roster(roster, problems)
    ids = [s.student_id for s in students] if students is not None else None
    gradebooks = _load_gradebooks(policy, homework, ids, problems)
    score_cells = _load_scores(policy, scores, ids, problems) if scores else {}
    quiz_names, quiz_cells = _load_quizzes(policy, quizzes, ids, problems) if quizzes else ((), {})
    lates = policy.attendance.lates_per_absence if policy.attendance else 0
    absences = load_attendance(attendance, ids, problems, lates) if attendance else {}
    late = _load_late_days(late_days, gradebooks, ids, problems) if late_days else {}
    _check_homework(policy, gradebooks, rubrics, problems)
    rubric_cells = {
        name: (str(path), _load_rubric(policy, name, path, ids, problems))
        for name, path in rubrics.items()
    }
    if problems:
        files = list(dict.fromkeys(p.file for p in problems))
        raise InputErrors(
            sorted(problems, key=lambda p: (files.index(p.file), p.row is None, p.row or 0))
        )
    return Inputs(
        roster=students or (),
        gradebooks=gradebooks,
        scores_file=str(scores or ""),
        scores=score_cells,
        quizzes_file=str(quizzes or ""),
        quiz_names=quiz_names,
        quizzes=quiz_cells,
        absences=absences,
        late_days=late,
        rubrics=rubric_cells,
    )


def _check_homework(
    policy: Policy,
    gradebooks: tuple[Gradebook, ...],
    rubrics: Mapping[str, Path],
    problems: Problems,
) -> None:
    """Stated assignment weights and rubrics must match the gradebooks and files given."""
    component = policy.component_for(Source.HOMEWORK)
    if component is None:
        return
    given = [g.assignment for g in gradebooks]
    weighted = [name for name, _ in component.assignment_weights]
    if weighted:
        for name in given:
            if name not in weighted:
                problems.append(
                    InputProblem("--homework", None, name, "no weight in the policy's assignments")
                )
        for name in weighted:
            if name not in given:
                problems.append(
                    InputProblem("--homework", None, name, "the policy weighs it; no gradebook given")
                )
    with_rubric = [name for name, _ in component.rubrics]
    for name in rubrics:
        if name not in with_rubric:
            problems.append(
                InputProblem("--rubric", None, name, "the policy has no rubric for this assignment")
            )
        elif name not in given:
            problems.append(InputProblem("--rubric", None, name, "no --homework gradebook for it"))
    for name in with_rubric:
        if name not in rubrics and name in given:
            problems.append(
                InputProblem("--rubric", None, name, f"the policy has a rubric: give {name}=FILE")
            )


def _load_rubric(
    policy: Policy, assignment: str, path: Path, roster: list[str] | None, problems: Problems
) -> dict[str, dict[str, Cell]]:
    """``student_id`` + the policy's rubric columns; an empty cell is 0 with a warning."""
    component = policy.component_for(Source.HOMEWORK)
    columns = dict(component.rubrics).get(assignment, ()) if component else ()
    table = read_csv(path, problems)
    if table is None or not columns:
        return {}
    if not table.require(problems, ["student_id", *(c for c, _ in columns)], only=True):
        return {}
    rows = table.by_student(problems, roster)
    return {
        sid: {c: _cell(table, problems, row, c, points, Missing.ZERO) for c, points in columns}
        for sid, row in rows.items()
    }


def _check_files_match_policy(
    policy: Policy,
    problems: Problems,
    homework: Sequence[Path],
    scores: Path | None,
    quizzes: Path | None,
    attendance: Path | None,
    late_days: Path | None,
) -> None:
    """Each input the policy uses must be given, and no input it does not use."""
    hw = policy.component_for(Source.HOMEWORK)
    uses = {
        "--homework": (hw is not None, bool(homework)),
        "--scores": (any(c.source is Source.SCORES for c in policy.components), scores is not None),
        "--quizzes": (policy.component_for(Source.QUIZZES) is not None, quizzes is not None),
        "--attendance": (policy.attendance is not None, attendance is not None),
    }
    for option, (needed, given) in uses.items():
        if needed != given:
            what = "needs" if needed else "does not use"
            problems.append(InputProblem(option, None, None, f"the policy {what} this input"))
    if late_days is not None and (
        hw is None or not (hw.late_penalty_per_day or hw.max_late_days is not None)
    ):
        problems.append(
            InputProblem(
                str(late_days),
                None,
                None,
                "the policy has no late_penalty_per_day, so late days would change nothing",
            )
        )


def _load_roster(path: Path, problems: Problems) -> tuple[Student, ...] | None:
    table = read_csv(path, problems)
    if table is None or not table.require(problems, ("student_id", "name")):
        return None
    rows = table.by_student(problems, None)
    if not table.rows:
        table.problem(problems, None, None, "no students")
    for student_id, row in rows.items():
        if not _SAFE_ID.fullmatch(student_id):
            table.problem(
                problems,
                row.line,
                "student_id",
                (
                    f"'{student_id}' is not a usable student id (letters, digits, '.', '_', '-';"
                    " it names the breakdown file)"
                ),
            )
        if not row.cells["name"]:
            table.problem(problems, row.line, "name", "empty name")
    return tuple(Student(sid, row.cells["name"]) for sid, row in rows.items())


def _load_gradebooks(
    policy: Policy, paths: Sequence[Path], roster: list[str] | None, problems: Problems
) -> tuple[Gradebook, ...]:
    component = policy.component_for(Source.HOMEWORK)
    gradebooks: dict[str, Gradebook] = {}
    for path in paths:
        name = assignment_name(path)
        if name in gradebooks:
            problems.append(
                InputProblem(
                    str(path),
                    None,
                    None,
                    f"assignment name '{name}' is already used by {gradebooks[name].file}",
                )
            )
            continue
        table = read_csv(path, problems)
        if table is None or not table.require(problems, GRADEBOOK_COLUMNS):
            continue
        rows = table.by_student(problems, roster)
        if roster is not None and component is not None and component.missing is Missing.ERROR:
            table.absent(problems, roster, rows)
        extra = (*GRADEBOOK_COLUMNS, *GRADEBOOK_EXTRA)
        questions = [c for c in table.header if c not in extra]
        checked = {
            sid: _gradebook_row(table, row, questions, problems) for sid, row in rows.items()
        }
        gradebooks[name] = Gradebook(
            name, table.file, {sid: row for sid, row in checked.items() if row is not None}
        )
    return tuple(gradebooks.values())


def _gradebook_row(
    table: CsvTable, row: Row, questions: list[str], problems: Problems
) -> GradebookRow | None:
    status = row.cells["status"]
    if status not in GRADEBOOK_STATUSES:
        known = ", ".join(GRADEBOOK_STATUSES)
        table.problem(problems, row.line, "status", f"'{status}' is not a known status ({known})")
    max_score = parse_number(table, problems, row, "max_score", None)
    if max_score == 0:
        table.problem(problems, row.line, "max_score", "must be above 0")
        max_score = None
    score = parse_number(table, problems, row, "score", max_score)
    points = [(q, parse_number(table, problems, row, q, None)) for q in questions if row.cells[q]]
    late = None
    if row.cells.get("late_days"):
        late = parse_count(table, problems, row, "late_days")
    if status not in GRADEBOOK_STATUSES or max_score is None or score is None:
        return None
    return GradebookRow(
        status, score, max_score, tuple((q, p) for q, p in points if p is not None), late
    )


def _load_scores(
    policy: Policy, path: Path, roster: list[str] | None, problems: Problems
) -> dict[str, dict[str, Cell]]:
    components = [c for c in policy.components if c.column is not None]
    table = read_csv(path, problems)
    columns = ["student_id", *(c.column for c in components if c.column)]
    if table is None or not table.require(problems, columns, only=True):
        return {}
    rows = table.by_student(problems, roster)
    if roster is not None and any(c.missing is Missing.ERROR for c in components):
        table.absent(problems, roster, rows)
    scores: dict[str, dict[str, Cell]] = {}
    for student_id, row in rows.items():
        scores[student_id] = {}
        for component in components:
            assert component.column is not None
            scores[student_id][component.column] = _cell(
                table, problems, row, component.column, component.max_points, component.missing
            )
    return scores


def _load_quizzes(
    policy: Policy, path: Path, roster: list[str] | None, problems: Problems
) -> tuple[tuple[str, ...], dict[str, tuple[Cell, ...]]]:
    component = policy.component_for(Source.QUIZZES)
    table = read_csv(path, problems)
    if table is None or component is None or not table.require(problems, ("student_id",)):
        return (), {}
    names = tuple(c for c in table.header if c != "student_id" and not is_name_column(c))
    if len(names) <= component.drop_lowest:
        drops = f"the policy drops the lowest {component.drop_lowest}"
        table.problem(problems, 1, None, f"{len(names)} quiz column(s), but {drops}")
    rows = table.by_student(problems, roster)
    if roster is not None and component.missing is Missing.ERROR:
        table.absent(problems, roster, rows)
    quizzes = {
        student_id: tuple(
            _cell(table, problems, row, name, component.max_points, component.missing)
            for name in names
        )
        for student_id, row in rows.items()
    }
    return names, quizzes


def _load_late_days(
    path: Path, gradebooks: tuple[Gradebook, ...], roster: list[str] | None, problems: Problems
) -> dict[str, dict[str, int]]:
    """``student_id`` then one column per assignment; an empty cell or absent row is 0 days."""
    table = read_csv(path, problems)
    columns = ["student_id", *(g.assignment for g in gradebooks)]
    if table is None or not table.require(problems, ("student_id",)):
        return {}
    for column in table.header:
        if column not in columns:
            table.problem(problems, 1, column, "not the name of a --homework assignment")
    assignments = [c for c in table.header if c in columns[1:]]
    late: dict[str, dict[str, int]] = {}
    for student_id, row in table.by_student(problems, roster).items():
        days = {a: parse_count(table, problems, row, a) for a in assignments if row.cells[a]}
        late[student_id] = {a: n for a, n in days.items() if n is not None}
    return late


def _cell(
    table: CsvTable,
    problems: Problems,
    row: Row,
    column: str,
    maximum: Fraction | None,
    missing: Missing,
) -> Cell:
    """A score cell; ``EX`` is EXCUSED; empty is None if the policy counts missing as 0,
    else a problem."""
    if row.cells[column].upper() == EXCUSED:
        return EXCUSED
    if not row.cells[column]:
        if missing is Missing.ERROR:
            table.problem(
                problems, row.line, column, 'empty cell (the policy has missing = "error")'
            )
        return None
    return parse_number(table, problems, row, column, maximum)
