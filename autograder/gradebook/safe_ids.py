"""The ids results are stored under, made safe as folder names under OUT.

Used by the batch before grading and by the report when it reads the
submissions again, so both see the same ids.
"""

from __future__ import annotations

import dataclasses
import unicodedata

from ..intake.ids import id_key
from ..intake.submission import Submission
from . import safetext
from .results import unsafe_id


def safe_ids(submissions: list[Submission]) -> list[Submission]:
    """Defence in depth behind intake: every id valid UTF-8 without control characters,
    usable as a folder under OUT (never '.', '..', '_...', '.' first or a TA file), and
    unique. A changed id keeps its row, with a note naming what was submitted."""
    taken: set[str] = set()
    fixed = []
    for submission in submissions:
        student_id = unicodedata.normalize(
            "NFC", safetext.one_line(submission.student_id).strip())
        if unsafe_id(student_id):
            student_id = "id-" + (student_id.lstrip("._").replace("/", "_").replace("\\", "_")
                                  or "unnamed")
        base, number = student_id, 1
        while id_key(student_id) in taken:
            number += 1
            student_id = f"{base}-{number}"
        taken.add(id_key(student_id))
        if student_id != submission.student_id:
            note = (f"submitted as {safetext.one_line(submission.student_id)!r}, which cannot be "
                    f"an id as it is; graded as {student_id!r}")
            submission = dataclasses.replace(submission, student_id=student_id,
                                             notes=(*submission.notes, note))
        fixed.append(submission)
    return fixed
