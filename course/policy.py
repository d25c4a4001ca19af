"""The course policy: frozen, validated value objects.

Every object checks itself in ``__post_init__`` and raises
:class:`~course.errors.PolicyValueError` naming the offending key; loading a
policy file (:func:`course.policy_toml.load_policy`, which imports this module and
never the other way round) adds the file name and the enclosing table.  Numbers are :class:`fractions.Fraction`
so that no float ever touches a grade.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from course.errors import PolicyValueError
from course.numbers import plain

FAILING_LETTER = "F"

#: The syllabus' default letter cutoffs (inclusive lower bounds), best first.
DEFAULT_CUTOFFS: tuple[tuple[str, Fraction], ...] = tuple(
    (letter, Fraction(bound))
    for letter, bound in (
        ("A+", 95),
        ("A0", 90),
        ("B+", 85),
        ("B0", 80),
        ("C+", 75),
        ("C0", 70),
        ("D+", 65),
        ("D0", 60),
    )
)


class Source(StrEnum):
    """Where a component's numbers come from."""

    HOMEWORK = "homework"  # the autograder gradebooks (--homework)
    SCORES = "scores"  # one column of scores.csv (--scores)
    QUIZZES = "quizzes"  # every column of quizzes.csv (--quizzes)


class Missing(StrEnum):
    """What a missing score (no row, or an empty cell) means."""

    ERROR = "error"  # refuse to grade
    ZERO = "zero"  # count 0 and list a warning in the student's report


@dataclass(frozen=True, slots=True)
class Component:
    """One weighted part of the final grade.

    ``max_points`` is the maximum of one item: of the ``scores.csv`` column,
    or of each quiz.  Homework has none: each gradebook row carries its own
    ``max_score``.  ``late_penalty_per_day`` (homework only) is subtracted, in
    percentage points, from an assignment's percentage per late day (floor 0).
    ``max_late_days`` (homework only): an assignment more days late than this
    scores 0 ("not accepted"). ``drop_lowest`` (quizzes or homework) drops that
    many lowest item percentages. Homework only: ``assignment_weights`` weigh the
    assignments (default: equal; when given, exactly these assignments are
    expected); ``rubrics`` name, per assignment, the hand-graded columns of a
    rubric CSV and their maximum points, joined to the autograder's score.
    """

    name: str
    weight: Fraction
    source: Source
    max_points: Fraction | None = None
    column: str | None = None
    missing: Missing = Missing.ERROR
    drop_lowest: int = 0
    late_penalty_per_day: Fraction = Fraction(0)
    max_late_days: int | None = None
    assignment_weights: tuple[tuple[str, Fraction], ...] = ()
    rubrics: tuple[tuple[str, tuple[tuple[str, Fraction], ...]], ...] = ()

    def __post_init__(self) -> None:
        if not self.name:
            raise PolicyValueError("name", "must not be empty")
        if not 0 < self.weight <= 100:
            raise PolicyValueError("weight", f"must be > 0 and <= 100, got {plain(self.weight)}")
        has_max = self.source is not Source.HOMEWORK
        if has_max and (self.max_points is None or self.max_points <= 0):
            raise PolicyValueError("max_points", f"a {self.source} component needs max_points > 0")
        if not has_max and self.max_points is not None:
            raise PolicyValueError(
                "max_points", "homework is scored from each gradebook's max_score; remove it"
            )
        if (self.column is not None) != (self.source is Source.SCORES):
            raise PolicyValueError("column", "only a scores component has a scores.csv column")
        if self.drop_lowest < 0 or (self.drop_lowest and self.source is Source.SCORES):
            raise PolicyValueError(
                "drop_lowest", "must be >= 0 and only for a quizzes or homework component"
            )
        homework_only = {
            "max_late_days": self.max_late_days is not None,
            "assignments": bool(self.assignment_weights),
            "rubric": bool(self.rubrics),
        }
        for key, used in homework_only.items():
            if used and self.source is not Source.HOMEWORK:
                raise PolicyValueError(key, "only for the homework component")
        if self.max_late_days is not None and self.max_late_days < 0:
            raise PolicyValueError("max_late_days", "must be >= 0")
        for name, weight in self.assignment_weights:
            if weight <= 0:
                raise PolicyValueError(f"assignments.{name}", "must be > 0")
        for name, columns in self.rubrics:
            if not columns or any(points <= 0 for _, points in columns):
                raise PolicyValueError(f"rubric.{name}", "needs columns with max points > 0")
        if not 0 <= self.late_penalty_per_day <= 100 or (
            self.late_penalty_per_day and self.source is not Source.HOMEWORK
        ):
            raise PolicyValueError(
                "late_penalty_per_day", "must be in [0, 100] and only for the homework component"
            )


@dataclass(frozen=True, slots=True)
class Attendance:
    """``deduction_per_absence`` points (of 100) off per missed class.

    With ``max_absences`` set, a student with *more* absences gets F. In a
    per-class attendance sheet, ``L`` (late) is present unless
    ``lates_per_absence`` is set: then every that many lates count one absence.
    """

    deduction_per_absence: Fraction
    max_absences: int | None = None
    lates_per_absence: int = 0

    def __post_init__(self) -> None:
        if self.deduction_per_absence < 0:
            raise PolicyValueError("deduction_per_absence", "must be >= 0")
        if self.max_absences is not None and self.max_absences < 0:
            raise PolicyValueError("max_absences", "must be >= 0")
        if self.lates_per_absence < 0:
            raise PolicyValueError("lates_per_absence", "must be >= 0 (0: lates never count)")


@dataclass(frozen=True, slots=True)
class Quota:
    """At most ``max_percent`` % of the class may get ``letter`` or better."""

    letter: str
    max_percent: Fraction


@dataclass(frozen=True, slots=True)
class LetterScale:
    """Cutoffs (inclusive lower bounds on the rounded total), best first.

    A total below the last cutoff is F.  ``quotas`` (best letter first) turn
    on relative grading; see :func:`course.scoring.apply_quotas`.
    """

    cutoffs: tuple[tuple[str, Fraction], ...] = DEFAULT_CUTOFFS
    quotas: tuple[Quota, ...] = ()

    def __post_init__(self) -> None:
        if not self.cutoffs:
            raise PolicyValueError("cutoffs", "needs at least one letter")
        previous: Fraction | None = None
        for letter, bound in self.cutoffs:
            if not letter or letter == FAILING_LETTER:
                raise PolicyValueError(f"cutoffs.{letter}", f"'{FAILING_LETTER}' is implicit")
            if not 0 < bound <= 100:
                raise PolicyValueError(f"cutoffs.{letter}", "must be > 0 and <= 100")
            if previous is not None and bound >= previous:
                raise PolicyValueError(
                    f"cutoffs.{letter}",
                    f"cutoffs must descend (best letter first); {plain(bound)} is not below"
                    f" {plain(previous)}",
                )
            previous = bound
        self._check_quotas()

    def _check_quotas(self) -> None:
        last_rank, last_percent = -1, Fraction(0)
        for quota in self.quotas:
            key = f"quota.{quota.letter}"
            if quota.letter not in self.letters[:-1]:
                raise PolicyValueError(key, "not a letter of cutoffs")
            if not 0 <= quota.max_percent <= 100:
                raise PolicyValueError(key, "must be a percentage in [0, 100]")
            if self.rank(quota.letter) <= last_rank:
                raise PolicyValueError(key, "quotas must be listed best letter first")
            if quota.max_percent < last_percent:
                raise PolicyValueError(
                    key, "quotas are cumulative, so a worse letter cannot have a smaller quota"
                )
            last_rank, last_percent = self.rank(quota.letter), quota.max_percent

    @property
    def letters(self) -> tuple[str, ...]:
        """Every letter, best first, ending with F."""
        return tuple(letter for letter, _ in self.cutoffs) + (FAILING_LETTER,)

    def rank(self, letter: str) -> int:
        """0 for the best letter; F has the largest rank."""
        return self.letters.index(letter)

    def letter_for(self, rounded_total: Fraction) -> str:
        """The letter of the first cutoff the (already rounded) total reaches."""
        for letter, bound in self.cutoffs:
            if rounded_total >= bound:
                return letter
        return FAILING_LETTER

    def cutoff(self, letter: str) -> Fraction | None:
        """The lower bound of ``letter`` (None for F)."""
        return dict(self.cutoffs).get(letter)


@dataclass(frozen=True, slots=True)
class Policy:
    """The whole grading policy of one course."""

    name: str
    components: tuple[Component, ...]
    attendance: Attendance | None = None
    letters: LetterScale = LetterScale()

    def __post_init__(self) -> None:
        if not self.components:
            raise PolicyValueError("components", "at least one component is needed")
        names = [c.name for c in self.components]
        for name in names:
            if names.count(name) > 1:
                raise PolicyValueError(f"components.{name}", "duplicate component name")
        for source in (Source.HOMEWORK, Source.QUIZZES):
            extra = [c.name for c in self.components if c.source is source][1:]
            if extra:
                raise PolicyValueError(
                    f"components.{extra[0]}.source", f"only one component may use '{source}'"
                )
        columns = [c.column for c in self.components if c.column is not None]
        for component in self.components:
            if component.column is not None and columns.count(component.column) > 1:
                raise PolicyValueError(
                    f"components.{component.name}.column", "two components read the same column"
                )
        total = sum((c.weight for c in self.components), Fraction(0))
        if total != 100:
            raise PolicyValueError("components", f"weights must sum to 100, got {plain(total)}")

    def component_for(self, source: Source) -> Component | None:
        """The homework or quizzes component, if the policy has one."""
        return next((c for c in self.components if c.source is source), None)
