"""What happened to each cell of a notebook, and the lines of feedback about it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .replies import str_field


@dataclass(slots=True)
class CellOutcome:
    """What happened to one cell: ok, error, interrupted, killed or skipped.

    ``notes`` are what the worker did differently from Jupyter in that cell (a
    shell command or a missing module skipped); ``stdout`` is the printed
    output without stderr. Both are the student's process's claims.
    """

    index: int
    status: str
    ename: str = ""
    evalue: str = ""
    output: str = ""
    notes: tuple[str, ...] = ()
    stdout: str = ""

    def describe(self) -> str:
        where = f"cell {self.index + 1}"
        if self.status == "error":
            return f"{where} raised {self.ename}: {self.evalue}".rstrip(": ")
        if self.status == "interrupted":
            return f"{where} ran past its time limit and was interrupted"
        if self.status == "killed":
            return f"{where} stopped the notebook's process ({self.evalue})"
        if self.status == "skipped":
            return f"{where} was not run ({self.evalue})"
        return f"{where} ran"


MAX_NOTES = 20
DEMO = "a demonstration you did not change; nothing graded uses what it makes"
DEMOS = "demonstrations you did not change; nothing graded uses what they make"


def cell_report(outcomes: list[CellOutcome]) -> tuple[str, ...]:
    """One line per cell that did not simply run, and per note of a cell, in notebook order."""
    lines: list[str] = []
    demos = [o.index + 1 for o in outcomes if o.status == "skipped" and o.evalue == DEMO]
    for outcome in outcomes:
        if outcome.status == "skipped" and outcome.evalue == DEMO:
            if outcome.index + 1 == demos[0] and len(demos) > 1:
                listed = f"{', '.join(map(str, demos[:-1]))} and {demos[-1]}"
                lines.append(f"cells {listed} were not run: {DEMOS}")
            elif len(demos) == 1:
                lines.append(outcome.describe())
            continue
        if outcome.status != "ok":
            lines.append(outcome.describe())
        lines += [f"cell {outcome.index + 1}: {note}" for note in outcome.notes]
    return tuple(lines)


REPORTED = ("ok", "error", "interrupted")  # what a worker may say of a cell it ran
ROUTINE = re.compile(rf"cell \d+ was not run \({re.escape(DEMO)}\)"
                     rf"|cells [\d, ]+ and \d+ were not run: {re.escape(DEMOS)}")


def cell_outcome(index: int, reply: dict[str, Any]) -> CellOutcome:
    """The outcome of a cell from the worker's reply: the student's process's claims, so a
    status only the trusted side gives (``skipped``, ``killed``) or an unknown one is that
    cell's error, never a demonstration skipped."""
    status = str_field(reply.get("status"), 20)
    notes = reply.get("notes")
    notes = tuple(str_field(n, 300) for n in notes[:MAX_NOTES]) if type(notes) is list else ()
    return CellOutcome(
        index, status if status in REPORTED else "error", str_field(reply.get("ename"), 80),
        str_field(reply.get("evalue"), 500), str_field(reply.get("output"), 4096),
        tuple(n for n in notes if n), str_field(reply.get("stdout"), 4096))


def routine(line: str) -> bool:
    """A line of ``cell_report`` that only says which unchanged demonstrations were not run:
    in the student's feedback, but nothing for a TA to look at. The whole line must be one
    the trusted side writes (a worker's note is ``cell N: ...``)."""
    return ROUTINE.fullmatch(line) is not None
