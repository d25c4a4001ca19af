"""Stand-ins for ``grade_submission`` that kill their grading process (importable by the pool)."""

from __future__ import annotations

import os

from autograder.gradebook.results import SubmissionResult


def _fine(assignment, submission, seed):
    return SubmissionResult(student_id=submission.student_id, status="graded",
                            max_score=assignment.max_score, questions=assignment.questions,
                            seed=seed, grader_version=assignment.version)


def die_once(assignment, submission, *, seed, limits):
    """The first grading of each submission kills its process; the second succeeds."""
    marker = submission.path.with_suffix(".died")
    if not marker.exists():
        marker.write_text("1")
        os._exit(1)
    return _fine(assignment, submission, seed)


def always_die(assignment, submission, *, seed, limits):
    os._exit(1)


def fine(assignment, submission, *, seed, limits):
    """A record without grading (the pool's own behaviour, quickly)."""
    return _fine(assignment, submission, seed)


def size_or_fail(path):
    """An ``Alongside.compute``: the file's size; raises for files named ``bad*``."""
    if path.name.startswith("bad"):
        raise ValueError("a broken computation")
    return path.stat().st_size


class Sizes:
    """An ``Alongside`` that keeps each file's size by sha256."""

    compute = staticmethod(size_or_fail)

    def __init__(self):
        self.kept = {}

    def keep(self, sha256, value):
        self.kept[sha256] = value
