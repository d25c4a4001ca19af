"""The grade arithmetic (course.scoring), checked against totals computed by hand."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction

import pytest

from course.inputs import Gradebook, Inputs, Student
from course.numbers import round_half_up
from course.policy import Attendance, LetterScale, Policy, Quota, Source
from course.scoring import (
    Item,
    StudentGrade,
    absolute_letter,
    apply_quotas,
    final_total,
    grade_student,
    late_penalized,
    mark_dropped,
    mean_percent,
)

InputsFor = Callable[..., Inputs]
STUDENT = Student("2023001", "Kim Minjun")
EXAMPLE_2023001 = {
    "scores": ("95", "92", "98", "100"),
    "quizzes": ("10", "10", "9", "10", "9", "10", "10", "9", "9", "9"),
}
# 2023002 of course/examples: quizzes 8 x 9 + 7.9 = 79.9 points of 100
EXAMPLE_2023002 = {
    "homework": (("hw1", "graded", 85, 100),),
    "scores": ("95", "92", "92", "90"),
    "quizzes": ("8",) * 9 + ("7.9",),
    "absences": 1,
}


def with_component(policy: Policy, source: Source, **changes: object) -> Policy:
    """The policy with one component's fields replaced."""
    components = tuple(
        dataclasses.replace(c, **changes) if c.source is source else c for c in policy.components
    )
    return dataclasses.replace(policy, components=components)


@pytest.mark.parametrize(
    ("student", "total", "letter"),
    [
        # 20 + 20 + 25 + 25 + 5 + 5 = 100
        ({}, "100", "A+"),
        # hw 100% x 20 = 20; mid 95 x .20 = 19; final 92 x .25 = 23; project 98 x .25 = 24.5;
        # quiz 95/100 -> 95% x .05 = 4.75; participation 100 x .05 = 5  => 96.25
        (EXAMPLE_2023001, "96.25", "A+"),
        # the same with 3 absences: 96.25 - 3 x 0.5 = 94.75, below the A+ cutoff
        ({**EXAMPLE_2023001, "absences": 3}, "94.75", "A0"),
        # 17 + 19 + 23 + 23 + 79.9 x .05 (= 3.995) + 4.5 = 90.495; - 0.5 = 89.995 -> 90.00 -> A0
        (EXAMPLE_2023002, "89.995", "A0"),
        # the last quiz 7.88 instead: 3.994 -> 89.994 -> 89.99 -> B+
        ({**EXAMPLE_2023002, "quizzes": ("8",) * 9 + ("7.88",)}, "89.994", "B+"),
        # hw 20/30 = 66.66..% x .2 = 13.33..; + 80 => 93.333.. (exact, reported 93.33)
        ({"homework": (("hw1", "graded", 20, 30),)}, "280/3", "A0"),
        # everything 0 and 4 absences: 0 - 2 = -2, clamped to 0
        (
            {
                "homework": (("hw1", "graded", 0, 100),),
                "scores": ("0", "0", "0", "0"),
                "quizzes": ("0",) * 10,
                "absences": 4,
            },
            "0",
            "F",
        ),
    ],
    ids=[
        "perfect",
        "example-2023001",
        "absences-cross-cutoff",
        "89.995-is-A0",
        "89.994-is-B+",
        "repeating-decimal",
        "clamped-at-0",
    ],
)
def test_cose474_total_matches_hand_arithmetic(
    cose474: Policy, inputs_for: InputsFor, student: dict, total: str, letter: str
) -> None:
    """The total is exact (no float drift) and the letter follows the rounded total."""
    grade = grade_student(cose474, inputs_for(**student), STUDENT)
    assert grade.total == Fraction(total)
    assert grade.letter == letter


def test_attendance_deduction_is_half_a_point_per_absence(
    cose474: Policy, inputs_for: InputsFor
) -> None:
    """Each absence takes 0.5 points of 100 off the total (100 - 7 x 0.5 = 96.5)."""
    grade = grade_student(cose474, inputs_for(absences=7), STUDENT)
    assert (grade.deduction, grade.total) == (Fraction("3.5"), Fraction("96.5"))


@pytest.mark.parametrize(
    ("weighted", "deduction", "expected"),
    [(["60", "45"], "3", "100"), (["1", "0.5"], "2", "0"), (["50", "40"], "0.5", "89.5")],
    ids=["above-100-clamped", "below-0-clamped", "inside-unchanged"],
)
def test_final_total_clamps_to_0_100(weighted: list[str], deduction: str, expected: str) -> None:
    """60 + 45 - 3 = 102 -> 100; 1.5 - 2 = -0.5 -> 0; 90 - 0.5 = 89.5 stays."""
    assert final_total(map(Fraction, weighted), Fraction(deduction)) == Fraction(expected)


@pytest.mark.parametrize(
    ("total", "rounded", "letter"),
    [
        ("89.995", "90.00", "A0"),
        ("89.994", "89.99", "B+"),
        ("89.9949999", "89.99", "B+"),
        ("94.995", "95.00", "A+"),
        ("59.995", "60.00", "D0"),
        ("59.994", "59.99", "F"),
        ("100", "100.00", "A+"),
    ],
    ids=["89.995", "89.994", "just-below-half", "A+-boundary", "D0-boundary", "F", "100"],
)
def test_letter_uses_total_rounded_half_up(total: str, rounded: str, letter: str) -> None:
    """Half-up to 2 decimals first, then the first cutoff the rounded total reaches."""
    assert round_half_up(Fraction(total)) == Decimal(rounded)
    assert absolute_letter(Fraction(total), LetterScale())[0] == letter


def test_quizzes_drop_the_lowest(cose474: Policy, inputs_for: InputsFor) -> None:
    """Quizzes 10, 2, 4, 8 with 2 dropped: mean of 10 and 8 = 90% -> 4.5 weighted points."""
    policy = with_component(cose474, Source.QUIZZES, drop_lowest=2)
    grade = grade_student(policy, inputs_for(quizzes=("10", "2", "4", "8")), STUDENT)
    quiz = grade.components[4]
    assert [item.dropped for item in quiz.items] == [False, True, True, False]
    assert (quiz.percent, quiz.weighted) == (Fraction(90), Fraction("4.5"))


def test_drop_among_equal_quizzes_is_the_earlier_one() -> None:
    """Equal lowest percentages: the earlier quiz is the one marked dropped (deterministic)."""
    items = [
        Item(f"q{i}", Fraction(p), Fraction(10), Fraction(p * 10)) for i, p in enumerate([5, 3, 3])
    ]
    assert [i.dropped for i in mark_dropped(items, 1)] == [False, True, False]
    assert mean_percent(mark_dropped(items, 1)) == Fraction(40)  # (50 + 30) / 2


def test_late_days_cost_percentage_points_per_day(cose474: Policy, inputs_for: InputsFor) -> None:
    """10 points/day: hw1 85% 2 days late -> 65%; hw2 90% on time; hw3 15% 3 days -> 0 (floor).

    homework = (65 + 90 + 0) / 3 = 51.66..%; x 20 / 100 = 10.33.. weighted points.
    """
    policy = with_component(cose474, Source.HOMEWORK, late_penalty_per_day=Fraction(10))
    inputs = inputs_for(
        homework=(
            ("hw1", "graded", 85, 100),
            ("hw2", "graded", 45, 50),
            ("hw3", "graded", 15, 100),
        ),
        late_days={"hw1": 2, "hw3": 3},
    )
    homework = grade_student(policy, inputs, STUDENT).components[0]
    assert [item.percent for item in homework.items] == [65, 90, 0]
    assert homework.weighted == Fraction(155, 3) * 20 / 100
    assert "2 late day(s) x 10 = 20 percentage points off" in homework.items[0].note


def test_late_penalty_never_goes_below_zero() -> None:
    assert late_penalized(Fraction(15), 3, Fraction(10)) == 0
    assert late_penalized(Fraction(15), 1, Fraction(10)) == 5


def test_homework_missing_row_is_zero_and_other_status_counts_its_score(
    cose474: Policy, inputs_for: InputsFor
) -> None:
    """hw1 80%, hw2 no row (0%), hw3 invalid 30/60 (50%): (80 + 0 + 50) / 3 = 43.33..%."""
    inputs = inputs_for(homework=(("hw1", "graded", 80, 100), ("hw3", "invalid", 30, 60)))
    empty = Gradebook("hw2", "grading/hw2/gradebook.csv", {})
    inputs = dataclasses.replace(
        inputs, gradebooks=(inputs.gradebooks[0], empty, inputs.gradebooks[1])
    )
    grade = grade_student(cose474, inputs, STUDENT)
    assert grade.components[0].percent == Fraction(130, 3)
    assert grade.warnings == (
        "hw2: no row in grading/hw2/gradebook.csv; counted as 0",
        "hw3: autograder status 'invalid'; counted the score it recorded (30 / 60)",
    )


def test_missing_score_counts_zero_with_a_warning(cose474: Policy, inputs_for: InputsFor) -> None:
    """With missing = "zero", an empty midterm is 0: total 100 - 20 = 80, and a warning says so."""
    policy = dataclasses.replace(
        cose474,
        components=tuple(
            dataclasses.replace(c, missing="zero") if c.name == "midterm" else c
            for c in cose474.components
        ),
    )
    grade = grade_student(policy, inputs_for(scores=("", "100", "100", "100")), STUDENT)
    assert grade.total == 80
    assert grade.warnings == (
        "midterm: no score in scores.csv; counted as 0 (policy: missing = zero)",
    )


@pytest.mark.parametrize(
    ("absences", "letter"), [(3, "A+"), (4, "F")], ids=["at-cap-keeps-letter", "beyond-cap-is-F"]
)
def test_absence_cap(cose474: Policy, inputs_for: InputsFor, absences: int, letter: str) -> None:
    """Cap 3: 3 absences keep the letter of 100 - 1.5 = 98.5; 4 absences (98.0) are F."""
    policy = dataclasses.replace(cose474, attendance=Attendance(Fraction("0.5"), max_absences=3))
    grade = grade_student(policy, inputs_for(absences=absences), STUDENT)
    assert grade.total == 100 - Fraction(absences, 2)
    assert grade.letter == letter
    assert ("exceed the cap of 3" in grade.letter_reason) == (letter == "F")


def graded(totals: list[str], scale: LetterScale) -> list[StudentGrade]:
    """Students s0, s1, ... with these totals and their absolute letters."""
    return [
        StudentGrade(
            Student(f"s{i}", ""),
            (),
            0,
            Fraction(0),
            Fraction(t),
            *absolute_letter(Fraction(t), scale),
        )
        for i, t in enumerate(totals)
    ]


QUOTAS = LetterScale(quotas=(Quota("A0", Fraction(35)), Quota("B0", Fraction(70))))


@pytest.mark.parametrize(
    ("totals", "expected"),
    [
        # N = 10: A allowed floor(3.5) = 3 -> 91 and 90 drop to B+;
        # B0-or-better allowed 7: 97 95 92 91 90 88 86 keep, 84 and 82 drop to C+
        (
            ["97", "95", "92", "91", "90", "88", "86", "84", "82", "50"],
            ["A+", "A+", "A0", "B+", "B+", "B+", "B+", "C+", "C+", "F"],
        ),
        # 96 fits (1 of 3); the three-way tie at 93 would make 4 > 3: all three demoted
        (
            ["96", "93", "93", "93", "70", "70", "70", "70", "70", "70"],
            ["A+", "B+", "B+", "B+", "C0", "C0", "C0", "C0", "C0", "C0"],
        ),
        # within both quotas (3 A, 6 A-or-B of 10): nothing changes
        (
            ["99", "91", "90", "85", "84", "80", "70", "60", "50", "40"],
            ["A+", "A0", "A0", "B+", "B0", "B0", "C0", "D0", "F", "F"],
        ),
        # N = 2: A allowed floor(0.7) = 0, B allowed floor(1.4) = 1: 99 -> B+, 95 -> C+
        (["95", "99"], ["C+", "B+"]),
        # 89.995 rounds to 90.00 and ties with 90: ties use the rounded (reported) total
        (
            ["99", "98", "89.995", "90", "10", "10", "10", "10", "10", "10"],
            ["A+", "A+", "B+", "B+", "F", "F", "F", "F", "F", "F"],
        ),
    ],
    ids=["cumulative-demotion", "tie-never-split", "within-quota", "tiny-class", "rounded-tie"],
)
def test_quota_demotes_by_rank(totals: list[str], expected: list[str]) -> None:
    """At most 35% A (A+ and A0) and 70% A-or-B; excess students drop by rank, ties together."""
    assert [g.letter for g in apply_quotas(graded(totals, QUOTAS), QUOTAS)] == expected


@pytest.mark.parametrize(
    ("total", "reason"),
    [
        ("55.75", "55.75 < 60, the D0 cutoff"),
        ("96", "96.00 >= 95, the A+ cutoff"),
        ("89.994", "89.99 >= 85, the B+ cutoff; A0 needs 90"),
    ],
    ids=["F", "top", "middle"],
)
def test_letter_reason_names_the_cutoff(total: str, reason: str) -> None:
    assert absolute_letter(Fraction(total), LetterScale())[1] == reason


def test_quota_reason_explains_the_demotion() -> None:
    """A demoted student's letter_reason states the quota, the class size and the tie."""
    result = apply_quotas(graded(["96", "93", "93", "93"] + ["70"] * 6, QUOTAS), QUOTAS)
    assert result[1].letter_reason == (
        "quota: 93.00 would be A0 (93.00 >= 90, the A0 cutoff; A+ needs 95), but at most 35% of"
        " 10 students = 3 may get A0 or better and 1 scored higher (a tie of 3 is never split),"
        " so B+"
    )


def test_quota_never_touches_absence_cap_f(cose474: Policy, inputs_for: InputsFor) -> None:
    """An F from the absence cap stays F and is not counted as an A holder."""
    scale = LetterScale(quotas=(Quota("A0", Fraction(50)),))
    policy = dataclasses.replace(
        cose474, attendance=Attendance(Fraction("0.5"), max_absences=0), letters=scale
    )
    capped = grade_student(policy, inputs_for(absences=1), STUDENT)
    others = graded(["95"], scale)
    assert [g.letter for g in apply_quotas([capped, *others], scale)] == ["F", "A+"]
