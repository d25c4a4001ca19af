"""One student's submission as intake found it: the file to grade, or why there is none.

Made by ``find`` (folders, zips, plain notebooks) and ``attempts`` (Blackboard
downloads); read by grading, the ledger and the report. No I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from .ids import decode_name


@dataclass(frozen=True, slots=True)
class Submission:
    student_id: str
    path: Path | None
    problem: str = ""
    notes: tuple[str, ...] = ()
    root: Path | None = None
    submitted_at: datetime | None = None  # when the graded attempt was handed in, if known
    shown_as: str = ""  # how to name the file when ``path`` is not under ``root`` (a zip)
    info: dict[str, Any] = field(default_factory=dict)  # receipt facts: name, comments, ...

    @property
    def display_path(self) -> str:
        if self.shown_as:
            return self.shown_as
        if self.path is None:
            return ""
        if self.root is not None:
            try:
                return decode_name(str(self.path.relative_to(self.root)))
            except ValueError:
                pass
        return decode_name(str(self.path))


def with_note(submission: Submission, note: str) -> Submission:
    return replace(submission, notes=(*submission.notes, note))
