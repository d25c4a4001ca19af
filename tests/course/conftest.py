"""Fixtures for the course package: the real policy, the example term, small inputs."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path

import pytest

from course.inputs import Gradebook, GradebookRow, Inputs, Student
from course.policy import Policy
from course.policy_toml import load_policy

REPO = Path(__file__).resolve().parents[2]
COSE474 = REPO / "course" / "cose474.toml"
EXAMPLE_TERM = REPO / "course" / "examples"
STUDENT = Student("2023001", "Kim Minjun")


@pytest.fixture
def cose474() -> Policy:
    return load_policy(COSE474)


@pytest.fixture
def term(tmp_path: Path) -> Callable[..., dict[str, Path]]:
    """A copy of course/examples in tmp; ``term(scores=edit)`` rewrites a file first.

    Each keyword names a file stem (roster, scores, quizzes, attendance,
    hw1_gradebook) and maps to a function from the file's text to new text.
    """

    def make(**edits: Callable[[str], str]) -> dict[str, Path]:
        folder = tmp_path / "term"
        shutil.copytree(EXAMPLE_TERM, folder, dirs_exist_ok=True)
        for stem, edit in edits.items():
            path = folder / f"{stem}.csv"
            path.write_text(edit(path.read_text()))
        return {p.stem: p for p in folder.glob("*.csv")}

    return make


@pytest.fixture
def inputs_for() -> Callable[..., Inputs]:
    """``inputs_for(...)``: see :func:`make_inputs`."""
    return make_inputs


def make_inputs(
    *,
    homework: Sequence[tuple[str, str, float | str, float | str]] = (("hw1", "graded", 100, 100),),
    scores: tuple[str, str, str, str] | None = ("100", "100", "100", "100"),
    quizzes: Sequence[str] = ("10",) * 10,
    absences: int = 0,
    late_days: dict[str, int] | None = None,
) -> Inputs:
    """Inputs for the one student 2023001 under a cose474-shaped policy.

    ``homework`` rows are (assignment, status, score, max_score); ``scores``
    are midterm, final, project, participation (None: no row); quiz and score
    strings may be "" for a missing cell.
    """
    sid = STUDENT.student_id
    books = tuple(
        Gradebook(name, f"{name}.csv", {sid: GradebookRow(status, Fraction(score), Fraction(top))})
        for name, status, score, top in homework
    )
    columns = ("midterm", "final", "project", "participation")
    return Inputs(
        roster=(STUDENT,),
        gradebooks=books,
        scores_file="scores.csv",
        scores={} if scores is None else {sid: dict(zip(columns, map(_num, scores), strict=True))},
        quizzes_file="quizzes.csv",
        quiz_names=tuple(f"q{i + 1}" for i in range(len(quizzes))),
        quizzes={sid: tuple(_num(q) for q in quizzes)},
        absences={sid: absences},
        late_days={sid: late_days or {}},
    )


def _num(text: str) -> Fraction | None:
    return Fraction(text) if text else None
