"""The students table's flags: what a TA should look at, not what every student has."""

from __future__ import annotations

from autograder.gradebook.results import SubmissionResult
from autograder.grading.cells import DEMO, CellOutcome, cell_report
from autograder.report.data import build


def flags(cells: tuple[str, ...], notes: tuple[str, ...] = ()) -> list[str]:
    result = SubmissionResult(student_id="s1", status="graded", max_score=10.0,
                              questions={"q": 10.0}, notes=notes, cells=cells)
    return build("hw1", {"q": 10.0}, [result], []).rows[0].flags


def test_skipped_demonstrations_are_not_a_note_for_the_ta() -> None:
    one = cell_report([CellOutcome(3, "skipped", evalue=DEMO)])
    many = cell_report([CellOutcome(3, "skipped", evalue=DEMO), CellOutcome(5, "skipped", evalue=DEMO)])
    assert flags(one) == [] and flags(many) == []
    raised = cell_report([CellOutcome(3, "skipped", evalue=DEMO), CellOutcome(4, "error", "ValueError")])
    assert flags(raised) == ["1 note(s)"]
    assert flags(many, notes=("late file",)) == ["1 note(s)"]
