"""The policy file: cose474.toml says what the syllabus says; bad policies name file and key."""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from pathlib import Path

import pytest

from course.errors import PolicyError, PolicyValueError
from course.policy import DEFAULT_CUTOFFS, Component, LetterScale, Policy, Quota, Source
from course.policy_toml import load_policy

COSE474 = Path(__file__).resolve().parents[2] / "course" / "cose474.toml"

GOOD = COSE474.read_text()


def test_cose474_matches_the_syllabus(cose474: Policy) -> None:
    """20/20/25/25/5/5, exams out of 100, quizzes out of 10, none dropped, 0.5 per absence, no cap."""
    weights = {c.name: (c.weight, c.source, c.max_points) for c in cose474.components}
    assert weights == {
        "homework": (20, Source.HOMEWORK, None),
        "midterm": (20, Source.SCORES, 100),
        "final": (25, Source.SCORES, 100),
        "project": (25, Source.SCORES, 100),
        "quiz": (5, Source.QUIZZES, 10),
        "participation": (5, Source.SCORES, 100),
    }
    assert cose474.component_for(Source.QUIZZES).drop_lowest == 0  # type: ignore[union-attr]
    homework = cose474.component_for(Source.HOMEWORK)
    assert homework is not None
    assert (homework.late_penalty_per_day, homework.max_late_days) == (10, 3)
    assert cose474.attendance is not None
    assert (cose474.attendance.deduction_per_absence, cose474.attendance.max_absences) == (
        Fraction(1, 2),
        None,
    )
    assert cose474.letters == LetterScale(cutoffs=DEFAULT_CUTOFFS, quotas=())


def test_policy_is_immutable(cose474: Policy) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        cose474.name = "other"  # type: ignore[misc]


def test_quota_table_is_read_in_order(tmp_path: Path) -> None:
    """[letters.quota] "A0" = 35, "B0" = 70 -> two cumulative quotas, best letter first."""
    path = tmp_path / "p.toml"
    path.write_text(GOOD + '\n[letters.quota]\n"A0" = 35\n"B0" = 70.5\n')
    quotas = load_policy(path).letters.quotas
    assert quotas == (Quota("A0", Fraction(35)), Quota("B0", Fraction("70.5")))


def edit(old: str, new: str, count: int = 1) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new, count)


BAD_POLICIES = {
    "weights-sum-101": (
        edit("weight = 20", "weight = 21"),
        "components",
        "weights must sum to 100, got 101",
    ),
    "weights-sum-99.5": (
        edit("weight = 20", "weight = 19.5"),
        "components",
        "weights must sum to 100, got 99.5",
    ),
    "cutoffs-not-descending": (
        edit('"B0" = 80', '"B0" = 86'),
        "letters.cutoffs.B0",
        "cutoffs must descend (best letter first); 86 is not below 85",
    ),
    "cutoff-equal": (
        edit('"C0" = 70', '"C0" = 75'),
        "letters.cutoffs.C0",
        "cutoffs must descend (best letter first); 75 is not below 75",
    ),
    "cutoff-F": (GOOD + '"F" = 10\n', "letters.cutoffs.F", "'F' is implicit"),
    "unknown-component-key": (
        edit("max_points = 10\n", "max_point = 10\n"),
        "components.quiz.max_point",
        "unknown key",
    ),
    "unknown-top-key": ("weights = 1\n" + GOOD, "weights", "unknown key"),
    "unknown-attendance-key": (
        edit("deduction_per_absence = 0.5", "deduction_per_absence = 0.5\ncap = 3"),
        "attendance.cap",
        "unknown key",
    ),
    "unknown-letters-key": (GOOD + "[letters.quotas]\n", "letters.quotas", "unknown key"),
    "weight-is-string": (
        edit("weight = 25", 'weight = "25"'),
        "components.final.weight",
        "expected a number, got '25'",
    ),
    "weight-is-bool": (
        edit("weight = 25", "weight = true"),
        "components.final.weight",
        "expected a number, got True",
    ),
    "max-absences-float": (
        edit("deduction_per_absence = 0.5", "deduction_per_absence = 0.5\nmax_absences = 2.5"),
        "attendance.max_absences",
        "expected an integer, got 2.5",
    ),
    "component-not-table": (
        "[components]\nhomework = 100\n",
        "components.homework",
        "expected a table, got 100",
    ),
    "unknown-source": (
        edit('source = "quizzes"', 'source = "quiz"'),
        "components.quiz.source",
        "'quiz' is not one of 'homework', 'scores', 'quizzes'",
    ),
    "weight-missing": (
        edit('weight = 5\nsource = "quizzes"', 'source = "quizzes"'),
        "components.quiz.weight",
        "missing",
    ),
    "scores-without-max": (
        edit("max_points = 100\n", ""),
        "components.midterm.max_points",
        "a scores component needs max_points > 0",
    ),
    "homework-with-max": (
        edit('source = "homework"', 'source = "homework"\nmax_points = 100'),
        "components.homework.max_points",
        "homework is scored from each gradebook's max_score; remove it",
    ),
    "drop-on-scores": (
        edit(
            'source = "scores"\nmax_points = 100',
            'source = "scores"\nmax_points = 100\ndrop_lowest = 1',
        ),
        "components.midterm.drop_lowest",
        "must be >= 0 and only for a quizzes or homework component",
    ),
    "negative-deduction": (
        edit("deduction_per_absence = 0.5", "deduction_per_absence = -0.5"),
        "attendance.deduction_per_absence",
        "must be >= 0",
    ),
    "quota-unknown-letter": (
        GOOD + '[letters.quota]\n"A" = 35\n',
        "letters.quota.A",
        "not a letter of cutoffs",
    ),
    "quota-shrinks": (
        GOOD + '[letters.quota]\n"A0" = 35\n"B0" = 30\n',
        "letters.quota.B0",
        "quotas are cumulative, so a worse letter cannot have a smaller quota",
    ),
    "quota-order": (
        GOOD + '[letters.quota]\n"B0" = 70\n"A0" = 35\n',
        "letters.quota.A0",
        "quotas must be listed best letter first",
    ),
    "no-components": ('name = "x"\n', "components", "missing"),
}


@pytest.mark.parametrize(
    ("text", "key", "message"), list(BAD_POLICIES.values()), ids=list(BAD_POLICIES)
)
def test_bad_policy_names_file_and_key(tmp_path: Path, text: str, key: str, message: str) -> None:
    """Every bad policy is a PolicyError whose message is 'FILE: key 'KEY': MESSAGE'."""
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert (caught.value.file, caught.value.key, caught.value.message) == (str(path), key, message)
    assert str(caught.value) == f"{path}: key '{key}': {message}"


@pytest.mark.parametrize(
    ("text", "message"),
    [("weight = = 3", "not valid TOML"), (None, "cannot read")],
    ids=["toml-syntax", "no-such-file"],
)
def test_unreadable_policy_names_the_file(tmp_path: Path, text: str | None, message: str) -> None:
    path = tmp_path / "p.toml"
    if text is not None:
        path.write_text(text)
    with pytest.raises(PolicyError, match=message) as caught:
        load_policy(path)
    assert caught.value.file == str(path)


def test_value_objects_validate_without_a_file() -> None:
    """Built in code, a bad value is a PolicyValueError (also a ValueError) naming the field."""
    with pytest.raises(PolicyValueError) as caught:
        Component("exam", Fraction(0), Source.SCORES, max_points=Fraction(100), column="exam")
    assert caught.value.key == "weight"
    assert isinstance(caught.value, ValueError)
