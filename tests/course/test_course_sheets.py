"""The course's sheets as they are kept (issue 26): per-class attendance, blank quiz cells."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from course.errors import InputErrors
from course.inputs import load_inputs
from course.policy import Attendance, Policy

Term = Callable[..., dict[str, Path]]


def load(policy: Policy, files: dict[str, Path], **changes: object):
    arguments: dict[str, object] = {
        "roster": files["roster"], "homework": [files["hw1_gradebook"]],
        "scores": files["scores"], "quizzes": files["quizzes"],
        "attendance": files["attendance"]}
    return load_inputs(policy, **{**arguments, **changes})  # type: ignore[arg-type]


def per_class(counts_text: str) -> str:
    """The per-class sheet equal to a ``student_id,absences`` file: A for each absence,
    then E, L and P in the other classes (excused and late are not absences)."""
    rows = [line.split(",") for line in counts_text.splitlines()[1:] if line.strip()]
    classes = 12
    lines = ["student_id," + ",".join(f"2026-09-{d:02d}" for d in range(1, classes + 1))]
    for student, absences in rows:
        n = int(absences)
        cells = ["A"] * n + ["e", "L", " p "] + ["P"] * (classes - n - 3)
        lines.append(f"{student}," + ",".join(cells))
    return "\n".join(lines) + "\n"


def test_a_per_class_sheet_equals_the_absences_form(cose474: Policy, term: Term) -> None:
    counts = load(cose474, term())
    files = term(attendance=per_class)
    assert load(cose474, files).absences == counts.absences
    assert sum(counts.absences.values()) > 0


def test_late_counts_as_absence_only_when_the_policy_says(cose474: Policy, term: Term) -> None:
    files = term(attendance=per_class)
    assert cose474.attendance is not None
    strict = dataclasses.replace(cose474, attendance=Attendance(
        cose474.attendance.deduction_per_absence, lates_per_absence=1))
    loose = load(cose474, files).absences
    assert {s: n - 1 for s, n in load(strict, files).absences.items()} == loose


@pytest.mark.parametrize(("cell", "message"), [("", "empty cell"), ("X", "'X' is not")])
def test_a_blank_or_unknown_attendance_cell_names_row_and_column(
        cose474: Policy, term: Term, cell: str, message: str) -> None:
    def edit(text: str) -> str:
        lines = per_class(text).splitlines()
        cells = lines[3].split(",")
        cells[5] = cell
        lines[3] = ",".join(cells)
        return "\n".join(lines) + "\n"

    with pytest.raises(InputErrors) as caught:
        load(cose474, term(attendance=edit))
    found = [(Path(p.file).name, p.row, p.column, p.message) for p in caught.value.problems]
    assert len(found) == 1
    assert found[0][:3] == ("attendance.csv", 4, "2026-09-05")
    assert message in found[0][3] and "P, A, E or L" in found[0][3]


def test_a_blank_quiz_cell_is_zero_without_a_policy_edit(cose474: Policy, term: Term) -> None:
    files = term(quizzes=lambda t: t.replace(",7.9\n", ",\n"))
    inputs = load(cose474, files)
    assert inputs.quizzes["2023002"][-1] is None  # scored 0 (with a warning) by scoring
    files = term(quizzes=lambda t: t.replace(",7.9\n", ",absent\n"))
    with pytest.raises(InputErrors) as caught:
        load(cose474, files)
    assert [(p.row, p.column) for p in caught.value.problems] == [(3, "q10")]


def test_final_grades_from_the_per_class_sheet_equal_the_counts(tmp_path: Path) -> None:
    """`course grades` end to end: the same final_grades.csv from either attendance form."""
    import io
    import shutil

    from rich.console import Console

    from course.cli import main

    repo = Path(__file__).resolve().parents[2]
    term = tmp_path / "term"
    shutil.copytree(repo / "course" / "examples", term)
    outputs = {}
    for form in ("counts", "per-class"):
        if form == "per-class":
            path = term / "attendance.csv"
            path.write_text(per_class(path.read_text()))
        out = tmp_path / form
        argv = ["grades", "--policy", str(repo / "course" / "cose474.toml"),
                "--roster", str(term / "roster.csv"), "--homework",
                str(term / "hw1_gradebook.csv"), "--scores", str(term / "scores.csv"),
                "--quizzes", str(term / "quizzes.csv"), "--attendance",
                str(term / "attendance.csv"), "--out", str(out)]
        assert main(argv, console=Console(file=io.StringIO(), width=200)) == 0
        outputs[form] = (out / "final_grades.csv").read_text(encoding="utf-8-sig")
    assert outputs["counts"] == outputs["per-class"]
    assert "attendance_deduction" in outputs["counts"]


def test_a_name_column_beside_the_ids_is_not_a_class_or_a_quiz(cose474: Policy, term: Term) -> None:
    def named(text: str) -> str:
        header, *rows = per_class(text).splitlines()
        return "\n".join([header.replace("student_id,", "student_id,name,", 1),
                          *(r.replace(",", ",Some One,", 1) for r in rows)]) + "\n"

    def quiz_named(text: str) -> str:
        header, *rows = text.splitlines()
        return "\n".join([header.replace("student_id,", "student_id,Name,", 1),
                          *(r.replace(",", ",Some One,", 1) for r in rows)]) + "\n"

    counts = load(cose474, term())
    inputs = load(cose474, term(attendance=named, quizzes=quiz_named))
    assert inputs.absences == counts.absences
    assert inputs.quiz_names == counts.quiz_names and inputs.quizzes == counts.quizzes
