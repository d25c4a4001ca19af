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
