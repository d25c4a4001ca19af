"""The grade arithmetic: pure functions over a Policy and validated Inputs, no I/O.

* item percentage = earned / max x 100 (homework: score / max_score x 100,
  minus ``late_penalty_per_day`` percentage points per late day, floor 0);
* component percentage = mean of its item percentages (quizzes: after
  dropping the ``drop_lowest`` lowest), a scores column is a single item;
* total = sum(weight x percentage / 100) - deduction_per_absence x absences,
  clamped to [0, 100], exact (Fractions); reported half-up to 2 decimals;
* letter = the first cutoff the *rounded* total reaches (89.995 -> 90.00 -> A0),
  F beyond the absence cap, then quotas (:func:`apply_quotas`) may demote.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from fractions import Fraction
from itertools import groupby

from course.inputs import EXCUSED, Cell, Gradebook, Inputs, Student
from course.numbers import plain, round_half_up
from course.policy import FAILING_LETTER, Component, LetterScale, Policy, Source

HUNDRED = Fraction(100)


@dataclass(frozen=True, slots=True)
class Item:
    """One number that went into a component: an assignment, a quiz, an exam score."""

    label: str
    earned: Fraction
    maximum: Fraction
    percent: Fraction
    note: str = ""
    dropped: bool = False
    weight: Fraction = Fraction(1)  # within its component (homework: the assignment weights)
    excused: bool = False  # EX: left out of the component's mean


@dataclass(frozen=True, slots=True)
class ComponentScore:
    component: Component
    items: tuple[Item, ...]
    percent: Fraction
    excused: bool = False  # EX (every item excused): the other components are reweighted
    scale: Fraction = Fraction(1)  # 100 / (sum of the weights not excused), see grade_student

    @property
    def weighted(self) -> Fraction:
        """Points of 100 this component contributes: weight x percent / 100 (x the
        reweighting factor when another component is excused; 0 when this one is)."""
        if self.excused:
            return Fraction(0)
        return self.component.weight * self.scale * self.percent / HUNDRED


@dataclass(frozen=True, slots=True)
class StudentGrade:
    student: Student
    components: tuple[ComponentScore, ...]
    absences: int
    deduction: Fraction
    total: Fraction
    letter: str
    letter_reason: str
    warnings: tuple[str, ...] = ()

    @property
    def rounded_total(self) -> Decimal:
        return round_half_up(self.total)

    @property
    def weighted_sum(self) -> Fraction:
        return sum((c.weighted for c in self.components), Fraction(0))


def percent(earned: Fraction, maximum: Fraction) -> Fraction:
    """earned / maximum x 100, exactly."""
    return earned / maximum * HUNDRED


def late_penalized(value: Fraction, late_days: int, per_day: Fraction) -> Fraction:
    """A percentage minus ``per_day`` points per late day, never below 0."""
    return max(Fraction(0), value - late_days * per_day)


def mark_dropped(items: Sequence[Item], count: int) -> tuple[Item, ...]:
    """Mark the ``count`` lowest-percentage items dropped (earlier item first among equals);
    excused items are not counted, and at least one item is kept."""
    counted = [i for i in range(len(items)) if not items[i].excused]
    count = min(count, max(0, len(counted) - 1))
    order = sorted(counted, key=lambda i: (items[i].percent, i))[:count]
    return tuple(
        replace(item, dropped=True) if i in order else item for i, item in enumerate(items)
    )


def mean_percent(items: Iterable[Item]) -> Fraction:
    """The weighted mean percentage of the items neither dropped nor excused (0 if none)."""
    kept = [item for item in items if not item.dropped and not item.excused]
    total = sum((item.weight for item in kept), Fraction(0))
    return sum((i.percent * i.weight for i in kept), Fraction(0)) / total if total else Fraction(0)


def final_total(weighted: Iterable[Fraction], deduction: Fraction) -> Fraction:
    """sum(weighted points) - deduction, clamped to [0, 100]."""
    return min(HUNDRED, max(Fraction(0), sum(weighted, Fraction(0)) - deduction))


def absolute_letter(total: Fraction, letters: LetterScale) -> tuple[str, str]:
    """The letter of the total rounded half-up to 2 decimals, and why."""
    rounded = round_half_up(total)
    letter = letters.letter_for(Fraction(rounded))
    rank = letters.rank(letter)
    better = letters.letters[rank - 1] if rank > 0 else None
    if letter == FAILING_LETTER:
        lowest, bound = letters.cutoffs[-1]
        reason = f"{rounded} < {plain(bound)}, the {lowest} cutoff"
    else:
        reason = f"{rounded} >= {plain(letters.cutoffs[rank][1])}, the {letter} cutoff"
        if better is not None:
            reason += f"; {better} needs {plain(letters.cutoffs[rank - 1][1])}"
    return letter, reason


def homework_items(
    component: Component,
    student_id: str,
    gradebooks: Sequence[Gradebook],
    late_days: Mapping[str, int],
    rubrics: Mapping[str, tuple[str, Mapping[str, Mapping[str, Cell]]]] | None = None,
) -> tuple[tuple[Item, ...], tuple[str, ...]]:
    """One item per gradebook (rubric points joined); an absent row is 0 with a warning.

    Late days: ``late_days`` (the --late-days file) if it names the assignment, else
    the gradebook's own ``late_days`` column; more than ``max_late_days`` scores 0.
    """
    items: list[Item] = []
    warnings: list[str] = []
    weights = dict(component.assignment_weights)
    for book in gradebooks:
        weight = weights.get(book.assignment, Fraction(1))
        row = book.rows.get(student_id)
        rubric_columns = dict(component.rubrics).get(book.assignment, ())
        if row is None:
            items.append(
                Item(
                    book.assignment,
                    Fraction(0),
                    HUNDRED,
                    Fraction(0),
                    "no submission",
                    weight=weight,
                )
            )
            warnings.append(f"{book.assignment}: no row in {book.file}; counted as 0")
            continue
        earned, maximum = row.score, row.max_score
        note = f"status {row.status}"
        if row.questions:
            note += "; " + ", ".join(
                f"{question} {plain(points)}" for question, points in row.questions
            )
        if rubric_columns and rubrics and book.assignment in rubrics:
            file, cells = rubrics[book.assignment]
            extra, extra_max, text = _rubric(
                rubric_columns, cells.get(student_id), file, book.assignment, warnings
            )
            earned, maximum, note = earned + extra, maximum + extra_max, f"{note}; {text}"
        days = late_days.get(book.assignment, row.late_days or 0)
        value = late_penalized(percent(earned, maximum), days, component.late_penalty_per_day)
        if days and component.max_late_days is not None and days > component.max_late_days:
            value = Fraction(0)
            note += f"; {days} late day(s), over the {component.max_late_days} accepted: 0"
        elif days:
            per_day = plain(component.late_penalty_per_day)
            note += (
                f"; {days} late day(s) x {per_day} = {plain(days * component.late_penalty_per_day)}"
            )
            note += " percentage points off"
        if row.status != "graded":
            warnings.append(
                f"{book.assignment}: autograder status '{row.status}'; counted the score it"
                f" recorded ({plain(row.score)} / {plain(row.max_score)})"
            )
        items.append(Item(book.assignment, earned, maximum, value, note, weight=weight))
    return tuple(items), tuple(warnings)


def _rubric(
    columns: Sequence[tuple[str, Fraction]],
    cells: Mapping[str, Cell] | None,
    file: str,
    assignment: str,
    warnings: list[str],
) -> tuple[Fraction, Fraction, str]:
    """(points, max points, note) of the hand-graded columns; EX columns are left out."""
    earned, maximum, parts = Fraction(0), Fraction(0), []
    if cells is None:
        warnings.append(f"{assignment}: no row in the rubric {file}; written part counted as 0")
    for column, points in columns:
        cell = cells.get(column) if cells else None
        if cell == EXCUSED:
            parts.append(f"{column} excused")
            continue
        if cell is None and cells is not None:
            warnings.append(f"{assignment}: rubric {column} empty in {file}; counted as 0")
        value = cell if isinstance(cell, Fraction) else Fraction(0)
        earned, maximum = earned + value, maximum + points
        parts.append(f"{column} {plain(value)}/{plain(points)}")
    return earned, maximum, "rubric " + ", ".join(parts)


def point_items(
    component: Component, labels: Sequence[str], points: Sequence[Cell], file: str
) -> tuple[tuple[Item, ...], tuple[str, ...]]:
    """Items out of ``component.max_points``; a missing value (None) is 0 with a warning;
    an excused one (EX) is left out."""
    assert component.max_points is not None
    items, warnings = [], []
    for label, earned in zip(labels, points, strict=True):
        if earned == EXCUSED:
            items.append(
                Item(label, Fraction(0), component.max_points, Fraction(0), "excused", excused=True)
            )
            continue
        assert not isinstance(earned, str)
        if earned is None:
            warnings.append(f"{label}: no score in {file}; counted as 0 (policy: missing = zero)")
        value = earned if earned is not None else Fraction(0)
        note = "missing, counted as 0" if earned is None else ""
        items.append(
            Item(label, value, component.max_points, percent(value, component.max_points), note)
        )
    return tuple(items), tuple(warnings)


def score_component(
    component: Component, student_id: str, inputs: Inputs
) -> tuple[ComponentScore, tuple[str, ...]]:
    """The component's items and percentage for one student, plus warnings."""
    if component.source is Source.HOMEWORK:
        late = inputs.late_days.get(student_id, {})
        items, warnings = homework_items(
            component, student_id, inputs.gradebooks, late, inputs.rubrics
        )
        items = mark_dropped(items, component.drop_lowest)
    elif component.source is Source.QUIZZES:
        points = inputs.quizzes.get(student_id, (None,) * len(inputs.quiz_names))
        items, warnings = point_items(component, inputs.quiz_names, points, inputs.quizzes_file)
        items = mark_dropped(items, component.drop_lowest)
    else:
        assert component.column is not None
        value = inputs.scores.get(student_id, {}).get(component.column)
        items, warnings = point_items(component, [component.name], [value], inputs.scores_file)
    excused = bool(items) and all(item.excused for item in items)
    return ComponentScore(component, items, mean_percent(items), excused), warnings


def grade_student(policy: Policy, inputs: Inputs, student: Student) -> StudentGrade:
    """Everything about one student's final grade, before any quota."""
    scored = [score_component(c, student.student_id, inputs) for c in policy.components]
    components = tuple(score for score, _ in scored)
    warnings = tuple(w for _, ws in scored for w in ws)
    counted = sum((c.component.weight for c in components if not c.excused), Fraction(0))
    if counted != HUNDRED:  # EX: the other components' weights are scaled up to 100
        scale = HUNDRED / counted if counted else Fraction(0)
        components = tuple(replace(c, scale=scale) for c in components)
        excused = ", ".join(c.component.name for c in components if c.excused)
        note = f"excused (EX): {excused}; the other components' weights are scaled by"
        warnings += (f"{note} 100/{plain(counted)}",)
    absences = inputs.absences.get(student.student_id, 0)
    attendance = policy.attendance
    deduction = attendance.deduction_per_absence * absences if attendance else Fraction(0)
    total = final_total((c.weighted for c in components), deduction)
    letter, reason = absolute_letter(total, policy.letters)
    if attendance and attendance.max_absences is not None and absences > attendance.max_absences:
        letter = FAILING_LETTER
        reason = (
            f"{absences} absences exceed the cap of {attendance.max_absences}, so F"
            f" (by total alone: {reason})"
        )
    return StudentGrade(student, components, absences, deduction, total, letter, reason, warnings)


def apply_quotas(grades: Sequence[StudentGrade], letters: LetterScale) -> tuple[StudentGrade, ...]:
    """Demote students by rank so that each quota (relative grading) holds.

    For each quota (best letter first): ``allowed = floor(max_percent x N / 100)``
    where N is the number of graded students.  The students holding that letter
    or better are ranked by rounded total, highest first; whole groups of equal
    totals are kept while they fit within ``allowed``; the first group that does
    not fit, and every group below it, drops to the letter just below the quota's.
    Tied students are never split: a tie that would exceed the quota is demoted
    together.  A later quota counts the students demoted by an earlier one.
    """
    result = list(grades)
    for quota in letters.quotas:
        allowed = (quota.max_percent * len(result) / HUNDRED).__floor__()
        rank = letters.rank(quota.letter)
        below = letters.letters[rank + 1]
        holders = sorted(
            (i for i, g in enumerate(result) if letters.rank(g.letter) <= rank),
            key=lambda i: (-result[i].rounded_total, i),
        )
        kept, full = 0, False
        for total, group in groupby(holders, key=lambda i: result[i].rounded_total):
            members = list(group)
            full = full or kept + len(members) > allowed
            if not full:
                kept += len(members)
                continue
            tie = f" (a tie of {len(members)} is never split)" if len(members) > 1 else ""
            for i in members:
                reason = (
                    f"quota: {total} would be {result[i].letter} ({result[i].letter_reason}),"
                    f" but at most {plain(quota.max_percent)}% of {len(result)} students"
                    f" = {allowed} may get {quota.letter} or better and {kept} scored"
                    f" higher{tie}, so {below}"
                )
                result[i] = replace(result[i], letter=below, letter_reason=reason)
    return tuple(result)


def grade_all(policy: Policy, inputs: Inputs) -> tuple[StudentGrade, ...]:
    """Every roster student's grade, in roster order, quotas applied."""
    grades = [grade_student(policy, inputs, student) for student in inputs.roster]
    return apply_quotas(grades, policy.letters)
