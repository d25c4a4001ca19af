"""Reading a policy TOML file into :class:`course.policy.Policy`.

The schema (every key is checked; an unknown key is an error)::

    name = "COSE474 Deep Learning"          # optional, shown in reports

    [components.<name>]                     # one table per component, in report order
    weight = 20                             # percent of the final grade; all sum to 100
    source = "homework" | "scores" | "quizzes"
    max_points = 100                        # scores: of the column; quizzes: of each quiz
    column = "midterm"                      # scores only; defaults to the component name
    missing = "error" | "zero"              # default: "zero" for homework and quizzes
                                            #   (a blank quiz cell: absent, 0), else "error"
    drop_lowest = 0                         # quizzes or homework
    late_penalty_per_day = 0                # homework only, percentage points per late day
    max_late_days = 3                       # homework only: later than this scores 0
    assignments = { hw1 = 1, hw2 = 2 }      # homework only: weights, e.g. (default: equal)
    [components.<name>.rubric.<assignment>] # homework only: hand-graded columns of the
    proof = 10                              #   --rubric <assignment>=FILE CSV, max points

    [attendance]                            # optional
    deduction_per_absence = 0.5             # points of 100 per missed class
    max_absences = 6                        # optional: more absences than this -> F
    lates_per_absence = 3                   # optional: per-class sheets' L cells, every 3
                                            #   count one absence (default 0: L is present)

    [letters.cutoffs]                       # optional; default A+ 95 ... D0 60, best first
    "A+" = 95

    [letters.quota]                         # optional relative grading, best letter first
    "A0" = 35                               # at most 35% of the class get A0 or better
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from pathlib import Path
from typing import Any, TypeVar

from course.errors import PolicyError, PolicyValueError
from course.numbers import NumberError, exact_number
from course.policy import (
    DEFAULT_CUTOFFS,
    Attendance,
    Component,
    LetterScale,
    Missing,
    Policy,
    Quota,
    Source,
)

_E = TypeVar("_E", bound=StrEnum)
_T = TypeVar("_T")


def load_policy(path: Path) -> Policy:
    """Parse and validate ``path``; every failure is a PolicyError naming file and key."""
    file = str(path)
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle, parse_float=Decimal)
    except OSError as error:
        raise PolicyError(file, None, f"cannot read: {error.strerror or error}") from error
    except ValueError as error:  # TOMLDecodeError, or an integer of over 4,300 digits
        raise PolicyError(file, None, f"not valid TOML: {error}") from error
    try:
        return _policy(_Table(document, "", _ROOT_KEYS))
    except PolicyValueError as error:
        raise PolicyError.from_value_error(file, error) from error


_ROOT_KEYS = ("name", "components", "attendance", "letters")
_COMPONENT_KEYS = (
    "weight", "source", "max_points", "column", "missing", "drop_lowest", "late_penalty_per_day",
    "max_late_days", "assignments", "rubric",
)  # fmt: skip
_ATTENDANCE_KEYS = ("deduction_per_absence", "max_absences", "lates_per_absence")
_LETTERS_KEYS = ("cutoffs", "quota")


class _Table:
    """One TOML table at a dotted ``path``; with ``keys``, any other key is an error."""

    def __init__(self, data: Mapping[str, Any], path: str, keys: tuple[str, ...] | None) -> None:
        self.data, self.path = data, path
        unknown = [name for name in data if keys is not None and name not in keys]
        if unknown:
            raise PolicyValueError(self.key(unknown[0]), "unknown key")

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def get(self, name: str, kind: type | tuple[type, ...], what: str) -> Any:
        """The value of ``name`` (None if absent); a bool never passes as a number."""
        value = self.data.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, kind)):
            shown = str(value) if isinstance(value, Decimal) else repr(value)
            raise PolicyValueError(self.key(name), f"expected {what}, got {shown}")
        return value

    def required(self, name: str, value: _T | None) -> _T:
        if value is None:
            raise PolicyValueError(self.key(name), "missing")
        return value

    def number(self, name: str) -> Fraction | None:
        value = self.get(name, (int, Decimal), "a number")
        if value is None:
            return None
        try:
            return exact_number(value)
        except NumberError as error:
            raise PolicyValueError(self.key(name), str(error)) from None

    def integer(self, name: str) -> int | None:
        value: int | None = self.get(name, int, "an integer")
        return value

    def string(self, name: str) -> str | None:
        value: str | None = self.get(name, str, "a string")
        return value

    def table(self, name: str, keys: tuple[str, ...] | None) -> _Table | None:
        value = self.get(name, dict, "a table")
        return None if value is None else _Table(value, self.key(name), keys)

    def numbers(self) -> list[tuple[str, Fraction]]:
        """Every key of this table as a number, in file order."""
        return [(name, self.required(name, self.number(name))) for name in self.data]


def _policy(root: _Table) -> Policy:
    components = root.required("components", root.table("components", None))
    return Policy(
        name=root.string("name") or "",
        components=tuple(_component(components, name) for name in components.data),
        attendance=_attendance(root.table("attendance", _ATTENDANCE_KEYS)),
        letters=_letters(root.table("letters", _LETTERS_KEYS)),
    )


def _component(components: _Table, name: str) -> Component:
    table = components.required(name, components.table(name, _COMPONENT_KEYS))
    weight = table.required("weight", table.number("weight"))
    source = _choice(table, "source", Source, None)
    default_missing = Missing.ZERO if source in (Source.HOMEWORK, Source.QUIZZES) else Missing.ERROR
    missing = _choice(table, "missing", Missing, default_missing)
    column = table.string("column")
    if column is None and source is Source.SCORES:
        column = name
    max_points = table.number("max_points")
    drop_lowest = table.integer("drop_lowest") or 0
    late_penalty = table.number("late_penalty_per_day") or Fraction(0)
    max_late_days = table.integer("max_late_days")
    weights_table = table.table("assignments", None)
    weights = tuple(weights_table.numbers()) if weights_table else ()
    rubric_table = table.table("rubric", None)
    rubrics = []
    for assignment in rubric_table.data if rubric_table else ():
        assert rubric_table is not None
        columns = rubric_table.required(assignment, rubric_table.table(assignment, None))
        rubrics.append((assignment, tuple(columns.numbers())))
    try:
        return Component(
            name=name,
            weight=weight,
            source=source,
            max_points=max_points,
            column=column,
            missing=missing,
            drop_lowest=drop_lowest,
            late_penalty_per_day=late_penalty,
            max_late_days=max_late_days,
            assignment_weights=weights,
            rubrics=tuple(rubrics),
        )
    except PolicyValueError as error:
        raise error.in_table(table.path) from None


def _attendance(table: _Table | None) -> Attendance | None:
    if table is None:
        return None
    deduction = table.required("deduction_per_absence", table.number("deduction_per_absence"))
    max_absences = table.integer("max_absences")
    lates = table.integer("lates_per_absence")
    try:
        return Attendance(deduction, max_absences, lates or 0)
    except PolicyValueError as error:
        raise error.in_table(table.path) from None


def _letters(table: _Table | None) -> LetterScale:
    if table is None:
        return LetterScale()
    cutoffs_table = table.table("cutoffs", None)
    cutoffs = tuple(cutoffs_table.numbers()) if cutoffs_table else DEFAULT_CUTOFFS
    quota_table = table.table("quota", None)
    quotas = tuple(Quota(*item) for item in quota_table.numbers()) if quota_table else ()
    try:
        return LetterScale(cutoffs=cutoffs, quotas=quotas)
    except PolicyValueError as error:
        raise error.in_table(table.path) from None


def _choice(table: _Table, name: str, kind: type[_E], default: _E | None) -> _E:
    """The string at ``name`` as a member of ``kind`` (``default`` if absent)."""
    text = table.string(name)
    if text is None:
        return table.required(name, default)
    try:
        return kind(text)
    except ValueError:
        allowed = ", ".join(repr(member.value) for member in kind)
        raise PolicyValueError(table.key(name), f"{text!r} is not one of {allowed}") from None
