"""What the instructor reads: final_grades.csv rows, breakdowns, summary, terminal table.

Every function here turns computed grades into text; none reads inputs or
writes files (see :mod:`course.grades` for that).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from fractions import Fraction
from statistics import median

from rich import box
from rich.table import Table

from course.numbers import plain, two_places
from course.policy import Policy, Source
from course.scoring import ComponentScore, StudentGrade


def final_grades_rows(policy: Policy, grades: Sequence[StudentGrade]) -> list[list[str]]:
    """Header + one row per student: weighted points per component, deduction, total, letter."""
    header = ["student_id", "name", *(c.name for c in policy.components)]
    rows = [header + ["attendance_deduction", "total", "letter"]]
    for grade in grades:
        rows.append(
            [
                grade.student.student_id,
                grade.student.name,
                *(two_places(c.weighted) for c in grade.components),
                two_places(grade.deduction),
                two_places(grade.total),
                grade.letter,
            ]
        )
    return rows


def breakdown_markdown(policy: Policy, grade: StudentGrade, policy_file: str) -> str:
    """The page an instructor hands to a student who asks how their grade came about."""
    student = grade.student
    lines = [
        f"# Final grade: {student.student_id} {student.name}",
        "",
        f"Course: {policy.name or '-'} (policy file `{policy_file}`)",
        "",
        f"**Total {two_places(grade.total)} / 100 -> {grade.letter}**",
        "",
        "## Components",
        "",
        "| component | percentage | weight | weighted points |",
        "|---|---:|---:|---:|",
    ]
    for score in grade.components:
        shown = "EX (excused)" if score.excused else f"{two_places(score.percent)}%"
        lines.append(
            f"| {score.component.name} | {shown} |"
            f" {plain(score.component.weight)} | {two_places(score.weighted)} |"
        )
    lines += ["", "Weighted points = weight x percentage / 100.", ""]
    scale = next((c.scale for c in grade.components if c.scale != 1), None)
    if scale is not None:
        text = "An excused (EX) component counts 0 of 0: every other weight is multiplied by"
        lines += [f"{text} {plain(scale)} so that they still sum to 100.", ""]
    for score in grade.components:
        lines += _component_section(score)
    lines += _total_section(policy, grade)
    lines += ["## Warnings", ""]
    lines += [f"- {warning}" for warning in grade.warnings] or ["- none"]
    return "\n".join(lines) + "\n"


def _component_section(score: ComponentScore) -> list[str]:
    component = score.component
    how = {
        Source.HOMEWORK: (
            "mean of the assignment percentages ((score + rubric points) / (max_score +"
            " rubric max) x 100), weighted by the policy's assignment weights if any"
        ),
        Source.QUIZZES: "mean of the quiz percentages (points / max x 100)",
        Source.SCORES: "points / max x 100",
    }[component.source]
    lines = [f"### {component.name}: {two_places(score.percent)}%", "", f"Percentage = {how}.", ""]
    lines += ["| item | points | max | percentage | note |", "|---|---:|---:|---:|---|"]
    for item in score.items:
        note = "dropped (lowest)" if item.dropped else item.note
        lines.append(
            f"| {item.label} | {plain(item.earned)} | {plain(item.maximum)} |"
            f" {two_places(item.percent)}% | {note} |"
        )
    if component.drop_lowest:
        lines += ["", f"The lowest {component.drop_lowest} item(s) are dropped."]
    if component.assignment_weights:
        weights = ", ".join(f"{n} {plain(w)}" for n, w in component.assignment_weights)
        lines += ["", f"Assignment weights: {weights}."]
    return lines + [""]


def _total_section(policy: Policy, grade: StudentGrade) -> list[str]:
    per_absence = policy.attendance.deduction_per_absence if policy.attendance else Fraction(0)
    raw = grade.weighted_sum - grade.deduction
    clamp = "" if raw == grade.total else f" (clamped to [0, 100] from {plain(raw)})"
    cutoffs = ", ".join(f"{letter} >= {plain(bound)}" for letter, bound in policy.letters.cutoffs)
    return [
        "## Attendance",
        "",
        (
            f"{grade.absences} absence(s) x {plain(per_absence)} = {two_places(grade.deduction)}"
            " points deducted"
        ),
        "",
        "## Total and letter",
        "",
        f"- sum of weighted points: {plain(grade.weighted_sum)}",
        f"- minus attendance deduction: {plain(grade.deduction)}",
        (
            f"- total: {plain(grade.total)}{clamp}, reported as **{two_places(grade.total)}**"
            " (half-up to 2 decimals)"
        ),
        f"- letter: **{grade.letter}**: {grade.letter_reason}",
        f"- cutoffs: {cutoffs}, else F (on the total rounded half-up to 2 decimals)",
        "",
        (
            "Percentages and weighted points above are shown rounded to 2 decimals; the total is"
            " computed exactly from the unrounded values."
        ),
        "",
    ]


def summary_markdown(policy: Policy, grades: Sequence[StudentGrade]) -> str:
    """Grade distribution, total statistics, component means and every warning."""
    count = len(grades)
    letters = Counter(g.letter for g in grades)
    totals = [g.total for g in grades]
    lines = [
        f"# Final grades: {policy.name or 'summary'}",
        "",
        f"{count} students.",
        "",
        "## Distribution",
        "",
        "| letter | students | share |",
        "|---|---:|---:|",
    ]
    for letter in policy.letters.letters:
        share = Fraction(letters[letter] * 100, count) if count else Fraction(0)
        lines.append(f"| {letter} | {letters[letter]} | {two_places(share)}% |")
    lines += ["", "![histogram of totals](histogram.png)", ""]
    if totals:
        mean = sum(totals, Fraction(0)) / count
        lines += [
            "## Totals",
            "",
            (
                f"mean {two_places(mean)}, median {two_places(Fraction(median(totals)))},"
                f" min {two_places(min(totals))}, max {two_places(max(totals))}"
            ),
            "",
            "## Component means (percentage)",
            "",
        ]
        for index, component in enumerate(policy.components):
            mean_pct = sum((g.components[index].percent for g in grades), Fraction(0)) / count
            lines.append(
                f"- {component.name} (weight {plain(component.weight)}): {two_places(mean_pct)}%"
            )
        lines.append("")
    lines += ["## Warnings", ""]
    warned = [f"- {g.student.student_id}: {w}" for g in grades for w in g.warnings]
    return "\n".join(lines + (warned or ["- none"])) + "\n"


def grade_table(policy: Policy, grades: Sequence[StudentGrade]) -> Table:
    """The final-grade table printed at the end of a run (ASCII box: readable in logs)."""
    rows = final_grades_rows(policy, grades)
    table = Table(title="Final grades", box=box.ASCII, show_lines=False)
    for index, name in enumerate(rows[0]):
        table.add_column(name, justify="left" if index < 2 else "right", no_wrap=True)
    for row in rows[1:]:
        table.add_row(*row)
    return table
