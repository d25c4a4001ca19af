"""Input validation: every bad input is reported with file, row and column, all at once."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import pytest

from course.errors import InputErrors, InputProblem
from course.inputs import Inputs, assignment_name, load_inputs
from course.policy import Policy, Source

Term = Callable[..., dict[str, Path]]
Problem = tuple[str, int | None, str | None, str]


def load(policy: Policy, files: dict[str, Path], **changes: object) -> Inputs:
    """load_inputs on the example term files, with some arguments replaced."""
    arguments: dict[str, object] = {
        "roster": files["roster"],
        "homework": [files["hw1_gradebook"]],
        "scores": files["scores"],
        "quizzes": files["quizzes"],
        "attendance": files["attendance"],
    }
    return load_inputs(policy, **{**arguments, **changes})  # type: ignore[arg-type]


def problems_of(call: Callable[[], object]) -> list[Problem]:
    """The (file name, row, column, message) of every problem ``call`` raises."""
    with pytest.raises(InputErrors) as caught:
        call()
    return [(Path(p.file).name, p.row, p.column, p.message) for p in caught.value.problems]


def replace(old: str, new: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, 1)

    return edit


def append(line: str) -> Callable[[str], str]:
    return lambda text: text + line + "\n"


def add_column(name: str, value: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        header, *rows = text.splitlines()
        return "".join(
            f"{line}\n" for line in [f"{header},{name}", *(f"{r},{value}" for r in rows)]
        )

    return edit


def drop_last_column(text: str) -> str:
    return "".join(line.rsplit(",", 1)[0] + "\n" for line in text.splitlines())


BAD_INPUTS: dict[str, tuple[dict[str, Callable[[str], str]], list[Problem]]] = {
    "not-a-number": (
        {"scores": replace("2023003,72,", "2023003,abc,")},
        [("scores.csv", 4, "midterm", "'abc' is not a number")],
    ),
    "above-max": (
        {"scores": replace("2023004,60,55,70,", "2023004,60,55,170,")},
        [("scores.csv", 5, "project", "170 is above the maximum 100")],
    ),
    "negative": (
        {"scores": replace("2023005,82,86,", "2023005,82,-86,")},
        [("scores.csv", 6, "final", "-86 is negative")],
    ),
    "unknown-student": (
        {"scores": append("2023099,1,1,1,1")},
        [("scores.csv", 12, "student_id", "'2023099' is not in the roster")],
    ),
    "duplicate-row": (
        {"scores": append("2023005,82,86,88,95")},
        [("scores.csv", 12, "student_id", "duplicate row for '2023005' (first on line 6)")],
    ),
    "missing-column": (
        {"scores": drop_last_column},
        [("scores.csv", 1, "participation", "missing column")],
    ),
    "unexpected-column": (
        {"scores": add_column("bonus", "1")},
        [("scores.csv", 1, "bonus", "unexpected column (not used by the policy)")],
    ),
    "roster-student-has-no-row": (
        {"scores": replace("2023006,78,80,84,85\n", "")},
        [("scores.csv", None, "student_id", "roster student '2023006' has no row")],
    ),
    "empty-required-cell": (
        {"scores": replace("2023007,91,89,93,90", "2023007,91,89,93,")},
        [("scores.csv", 8, "participation", 'empty cell (the policy has missing = "error")')],
    ),
    "wrong-field-count": (
        {"scores": replace("2023008,40,35,50,50", "2023008,40,35,50")},
        [
            ("scores.csv", 9, None, "4 fields, but the header has 5"),
            ("scores.csv", None, "student_id", "roster student '2023008' has no row"),
        ],
    ),
    "quiz-above-max": (
        {"quizzes": replace("2023001,10,", "2023001,11,")},
        [("quizzes.csv", 2, "q1", "11 is above the maximum 10")],
    ),
    "quiz-not-a-number": (
        {"quizzes": replace(",7.9\n", ",x\n")},
        [("quizzes.csv", 3, "q10", "'x' is not a number")],
    ),
    "absences-fraction": (
        {"attendance": replace("2023003,3", "2023003,1.5")},
        [("attendance.csv", 4, "absences", "'1.5' is not a whole number >= 0")],
    ),
    "absences-negative": (
        {"attendance": replace("2023003,3", "2023003,-1")},
        [("attendance.csv", 4, "absences", "'-1' is not a whole number >= 0")],
    ),
    "attendance-student-missing": (
        {"attendance": replace("2023008,6\n", "")},
        [("attendance.csv", None, "student_id", "roster student '2023008' has no row")],
    ),
    "gradebook-unknown-status": (
        {"hw1_gradebook": replace("2023004,timeout", "2023004,passed")},
        [
            (
                "hw1_gradebook.csv",
                5,
                "status",
                "'passed' is not a known status (graded, invalid, error, timeout, missing)",
            )
        ],
    ),
    "gradebook-score-above-max-score": (
        {"hw1_gradebook": replace("2023005,graded,90,100", "2023005,graded,190,100")},
        [("hw1_gradebook.csv", 6, "score", "190 is above the maximum 100")],
    ),
    "gradebook-unknown-student": (
        {"hw1_gradebook": replace("2023006,invalid", "2023009,invalid")},
        [("hw1_gradebook.csv", 7, "student_id", "'2023009' is not in the roster")],
    ),
    "gradebook-duplicate-row": (
        {"hw1_gradebook": append("2023001,graded,0,100,0,0,0,0,0,0,0")},
        [("hw1_gradebook.csv", 8, "student_id", "duplicate row for '2023001' (first on line 2)")],
    ),
    "gradebook-missing-column": (
        {"hw1_gradebook": replace("student_id,status,", "student_id,state,")},
        [("hw1_gradebook.csv", 1, "status", "missing column")],
    ),
    "gradebook-question-not-a-number": (
        {"hw1_gradebook": replace("2023001,graded,100,100,15,", "2023001,graded,100,100,abc,")},
        [("hw1_gradebook.csv", 2, "perceptron", "'abc' is not a number")],
    ),
    "roster-duplicate": (
        {"roster": append("2023001,Kim Again")},
        [("roster.csv", 12, "student_id", "duplicate row for '2023001' (first on line 2)")],
    ),
    "roster-empty-name": (
        {"roster": replace("2023008,Lim Jiwoo", "2023008,")},
        [("roster.csv", 9, "name", "empty name")],
    ),
}


@pytest.mark.parametrize(("edits", "expected"), list(BAD_INPUTS.values()), ids=list(BAD_INPUTS))
def test_bad_input_names_file_row_and_column(
    cose474: Policy, term: Term, edits: dict[str, Callable[[str], str]], expected: list[Problem]
) -> None:
    """Each bad input is an InputProblem naming the file, the line and the column."""
    files = term(**edits)
    assert problems_of(lambda: load(cose474, files)) == expected


def test_problem_line_format(cose474: Policy, term: Term) -> None:
    """One line per problem: 'FILE:ROW: column 'COLUMN': MESSAGE'."""
    files = term(scores=replace("2023003,72,", "2023003,abc,"))
    with pytest.raises(InputErrors) as caught:
        load(cose474, files)
    assert str(caught.value) == f"{files['scores']}:4: column 'midterm': 'abc' is not a number"


def test_all_problems_in_all_files_are_reported_together(cose474: Policy, term: Term) -> None:
    """Problems from several files come back at once, file by file, in line order."""
    files = term(
        scores=replace("2023003,72,", "2023003,abc,"),
        quizzes=replace("2023001,10,", "2023001,11,"),
        attendance=replace("2023008,6", "2023008,six"),
        hw1_gradebook=replace("2023004,timeout", "2023004,late"),
    )
    problems = problems_of(lambda: load(cose474, files))
    assert [(name, row, column) for name, row, column, _ in problems] == [
        ("hw1_gradebook.csv", 5, "status"),
        ("scores.csv", 4, "midterm"),
        ("quizzes.csv", 2, "q1"),
        ("attendance.csv", 9, "absences"),
    ]


def test_empty_roster_is_an_error(cose474: Policy, term: Term) -> None:
    """A roster with a header only grades nobody: an error (then every other row is unknown)."""
    files = term(roster=lambda text: text.splitlines()[0] + "\n")
    problems = problems_of(lambda: load(cose474, files))
    assert problems[0] == ("roster.csv", None, None, "no students")
    assert problems[1] == ("hw1_gradebook.csv", 2, "student_id", "'2023001' is not in the roster")


def test_unsafe_student_id_is_rejected(cose474: Policy, term: Term) -> None:
    """A student id names the breakdown file, so '../x' is refused."""
    files = term(roster=append("../x,Evil"))
    problems = problems_of(lambda: load(cose474, files))
    assert problems[0][:3] == ("roster.csv", 12, "student_id")
    assert problems[0][3].startswith("'../x' is not a usable student id")


def test_missing_file_and_unused_input(cose474: Policy, term: Term, tmp_path: Path) -> None:
    """An unreadable file and an input the policy needs but did not get are both named."""
    files = term()
    problems = problems_of(
        lambda: load(cose474, files, quizzes=None, attendance=tmp_path / "no.csv")
    )
    assert problems == [
        ("--quizzes", None, None, "the policy needs this input"),
        ("no.csv", None, None, "cannot read: No such file or directory"),
    ]


def test_duplicate_assignment_names(cose474: Policy, term: Term, tmp_path: Path) -> None:
    """grading/hw1/gradebook.csv and hw1_gradebook.csv are both 'hw1': an error."""
    files = term()
    other = tmp_path / "grading" / "hw1" / "gradebook.csv"
    other.parent.mkdir(parents=True)
    shutil.copy(files["hw1_gradebook"], other)
    problems = problems_of(lambda: load(cose474, files, homework=[other, files["hw1_gradebook"]]))
    assert problems == [
        ("hw1_gradebook.csv", None, None, f"assignment name 'hw1' is already used by {other}")
    ]


@pytest.mark.parametrize(
    ("path", "name"),
    [("grading/hw1/gradebook.csv", "hw1"), ("x/hw2_gradebook.csv", "hw2"), ("hw3.csv", "hw3")],
    ids=["parent-folder", "stem-suffix", "stem"],
)
def test_assignment_name(path: str, name: str) -> None:
    assert assignment_name(Path(path)) == name


def test_ids_keep_leading_zeros_and_lose_whitespace(cose474: Policy, tmp_path: Path) -> None:
    """'0012345' stays a string with its zeros; ' 0012345 ' in another file is the same student."""
    texts = {
        "roster": "student_id,name\n0012345,Han Yujin\n",
        "gb": "student_id,status,score,max_score,q\n 0012345 ,graded,50,100,50\n",
        "scores": "student_id,midterm,final,project,participation\n0012345 ,1,2,3,4\n",
        "quizzes": "student_id,q1\n0012345,5\n",
        "attendance": "student_id,absences\n\t0012345,0\n",
    }
    for stem, text in texts.items():
        (tmp_path / f"{stem}.csv").write_text(text)
    path = {stem: tmp_path / f"{stem}.csv" for stem in texts}
    inputs = load(cose474, {**path, "hw1_gradebook": path["gb"]})
    assert inputs.roster[0].student_id == "0012345"
    assert inputs.gradebooks[0].rows["0012345"].score == 50
    assert inputs.scores["0012345"]["participation"] == 4


def test_missing_counts_zero_when_the_policy_says_so(cose474: Policy, term: Term) -> None:
    """missing = "zero" on quizzes: an empty cell and an absent row load as None (no error)."""
    policy = dataclasses.replace(
        cose474,
        components=tuple(
            dataclasses.replace(c, missing="zero") if c.source is Source.QUIZZES else c
            for c in cose474.components
        ),
    )
    files = term(
        quizzes=lambda t: t.replace(",7.9\n", ",\n").replace(t.splitlines()[-1] + "\n", "")
    )
    inputs = load(policy, files)
    assert inputs.quizzes["2023002"][-1] is None
    assert "lee_sy_2" not in inputs.quizzes  # the last row


def test_late_days_file(cose474: Policy, term: Term, tmp_path: Path) -> None:
    """late_days.csv: student_id then assignment columns; unknown columns and bad counts named."""
    policy = dataclasses.replace(
        cose474,
        components=tuple(
            dataclasses.replace(c, late_penalty_per_day=Fraction(10))
            if c.source is Source.HOMEWORK
            else c
            for c in cose474.components
        ),
    )
    files = term()
    late = tmp_path / "late_days.csv"
    late.write_text("student_id,hw1\n2023001,2\n2023002,\n")
    assert load(policy, files, late_days=late).late_days == {"2023001": {"hw1": 2}, "2023002": {}}
    late.write_text("student_id,hw1,hw9\n2023001,x,1\n")
    assert problems_of(lambda: load(policy, files, late_days=late)) == [
        ("late_days.csv", 1, "hw9", "not the name of a --homework assignment"),
        ("late_days.csv", 2, "hw1", "'x' is not a whole number >= 0"),
    ]


def test_late_days_without_a_penalty_is_refused(
    cose474: Policy, term: Term, tmp_path: Path
) -> None:
    """Without a late penalty a late-days file would silently change nothing."""
    policy = dataclasses.replace(
        cose474,
        components=tuple(
            dataclasses.replace(c, late_penalty_per_day=Fraction(0), max_late_days=None)
            if c.source is Source.HOMEWORK
            else c
            for c in cose474.components
        ),
    )
    late = tmp_path / "late_days.csv"
    late.write_text("student_id,hw1\n2023001,2\n")
    assert problems_of(lambda: load(policy, term(), late_days=late)) == [
        (
            "late_days.csv",
            None,
            None,
            "the policy has no late_penalty_per_day, so late days would change nothing",
        )
    ]


def test_input_problem_without_row_or_column() -> None:
    assert str(InputProblem("a.csv", None, None, "empty")) == "a.csv: empty"
