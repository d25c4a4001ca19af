"""Skipped demonstration cells in a real sandboxed worker (``StudentSession``).

A skipped cell never runs; a grader asking for a name it binds gets the notebook run again
from the start with every cell, as Jupyter would have left it.
"""

from __future__ import annotations

import pytest

from autograder.grading.cells import DEMO, cell_outcome, cell_report, routine
from autograder.grading.demos import normalized
from autograder.grading.session import StudentSession
from autograder.intake.notebook import Cell

SETUP = "calls = []\ndef step(epoch):\n    calls.append(epoch)\n    return 1.0 / (epoch + 1)"
DEMO_TRAIN = "losses = [step(e) for e in range(3)]\nprint('demo ran')"
AFTER = "def double(x):\n    return 2 * x"


def session(*sources: str) -> StudentSession:
    cells = tuple(Cell(2 * n, text) for n, text in enumerate(sources))  # markdown between
    return StudentSession(cells, [], demo_cells=frozenset({normalized(DEMO_TRAIN)}))


@pytest.fixture
def student():
    with session(SETUP, DEMO_TRAIN, AFTER) as running:
        yield running


def test_an_unchanged_demonstration_does_not_run(student: StudentSession) -> None:
    outcomes = student.start()
    assert [o.status for o in outcomes] == ["ok", "skipped", "ok"]
    assert outcomes[1].evalue == DEMO and outcomes[1].index == 2
    assert student.call("double", 21) == 42
    assert student.get("calls") == []  # the demonstration's calls of step never happened
    assert cell_report(outcomes) == (f"cell 3 was not run ({DEMO})",)


def test_a_grader_that_asks_for_what_it_binds_gets_every_cell_run(student: StudentSession) -> None:
    outcomes = student.start()
    assert student.get("losses") == [1.0, 0.5, 1 / 3]
    assert student.get("calls") == [0, 1, 2]
    assert outcomes[1].status == "ok" and outcomes[1].stdout.strip() == "demo ran"
    assert student.call("double", 4) == 8  # the later cells ran again too
    assert student.restarts == 0  # not a restart after a crash


def test_a_changed_demonstration_runs() -> None:
    with session(SETUP, DEMO_TRAIN.replace("range(3)", "range(2)"), AFTER) as student:
        outcomes = student.start()
        assert [o.status for o in outcomes] == ["ok", "ok", "ok"]
        assert student.get("calls") == [0, 1]


def test_a_later_cell_that_reads_its_names_makes_it_run() -> None:
    with session(SETUP, DEMO_TRAIN, "best = min(losses)") as student:
        outcomes = student.start()
        assert [o.status for o in outcomes] == ["ok", "ok", "ok"]
        assert student.get("best") == pytest.approx(1 / 3)


def test_several_skipped_demonstrations_are_one_line_of_feedback() -> None:
    with session(SETUP, DEMO_TRAIN, AFTER, DEMO_TRAIN) as student:
        line = ("cells 3 and 7 were not run: demonstrations you did not change; nothing graded "
                "uses what they make")
        assert cell_report(student.start()) == (line,)



@pytest.mark.parametrize("status", ["skipped", "killed", "weird"])
def test_a_cell_cannot_claim_to_be_a_skipped_demonstration(status: str) -> None:
    """Only the trusted side skips a cell (or sees it killed): a worker's reply saying
    ``skipped`` with the demonstration's words (which the TA's report does not flag) is
    that cell's error, not a skipped demonstration."""
    outcome = cell_outcome(3, {"status": status, "evalue": DEMO})
    assert outcome.status == "error"
    assert not routine(cell_report([outcome])[0])
