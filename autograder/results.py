"""Result records and their exports: Gradescope ``results.json`` and the gradebook CSV.

One ``SubmissionResult`` per submission, whatever happened to it. ``status``
is one of ``STATUSES``; a score exists only for tests the trusted side saw pass.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

STATUSES = {
    "graded": "the hidden graders ran; the score is what passed",
    "invalid": "the submission is not a readable notebook with code (see message)",
    "timeout": "the notebook used up its total time limit; tests that could not run scored 0",
    "error": "grading failed for a reason that is not the student's (see message); score 0",
    "missing": "no notebook was found for this student",
}


@dataclass(frozen=True, slots=True)
class TestOutcome:
    """One hidden test: passed or not, and a message that is safe for the student."""

    __test__ = False  # not a pytest test class, despite the name

    name: str
    question: str
    max_points: float
    passed: bool
    feedback: str = ""
    seconds: float = 0.0

    @property
    def points(self) -> float:
        return self.max_points if self.passed else 0.0


@dataclass(frozen=True, slots=True)
class SubmissionResult:
    student_id: str
    status: str
    max_score: float
    questions: dict[str, float]
    tests: tuple[TestOutcome, ...] = ()
    message: str = ""
    seed: int | None = None
    source: str = ""
    notes: tuple[str, ...] = ()
    cells: tuple[str, ...] = ()
    grader_version: str = ""
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")

    @property
    def score(self) -> float:
        return float(sum(t.points for t in self.tests))

    def question_scores(self) -> dict[str, float]:
        earned = dict.fromkeys(self.questions, 0.0)
        for test in self.tests:
            earned[test.question] = earned.get(test.question, 0.0) + test.points
        return earned

    def to_gradescope(self) -> dict[str, Any]:
        """Gradescope's results.json: score, tests[], output, plus our own fields."""
        tests = [{
            "name": f"{t.question}: {t.name}",
            "score": t.points,
            "max_score": t.max_points,
            "status": "passed" if t.passed else "failed",
            "output": t.feedback if not t.passed else "Passed.",
            "tags": [t.question],
            "visibility": "visible",
        } for t in self.tests]
        output = [f"Status: {self.status}." + (f" {self.message}" if self.message else "")]
        output += [f"Note: {note}" for note in self.notes]
        output += [f"Notebook: {line}" for line in self.cells]
        return {
            "score": self.score,
            "max_score": self.max_score,
            "output": "\n".join(output),
            "visibility": "visible",
            "stdout_visibility": "hidden",
            "tests": tests,
            "extra_data": {
                "student_id": self.student_id, "status": self.status, "message": self.message,
                "seed": self.seed, "source": self.source, "grader_version": self.grader_version,
                "questions": self.question_scores(), "seconds": round(self.seconds, 3),
                **self.extra,
            },
        }

    def to_record(self) -> dict[str, Any]:
        return asdict(self)


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so a reader sees the old file or the new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_results_json(result: SubmissionResult, out_dir: Path) -> Path:
    path = out_dir / result.student_id / "results.json"
    atomic_write(path, json.dumps(result.to_gradescope(), indent=2, allow_nan=False) + "\n")
    return path


def gradebook_columns(questions: Iterable[str]) -> list[str]:
    return ["student_id", "status", "score", "max_score", *questions]


def write_gradebook(results: Iterable[SubmissionResult], questions: list[str], path: Path) -> None:
    """One row per student, sorted by id: status, score, max_score, points per question."""
    rows = []
    for result in sorted(results, key=lambda r: r.student_id):
        earned = result.question_scores()
        rows.append([result.student_id, result.status, _number(result.score),
                     _number(result.max_score), *(_number(earned.get(q, 0.0)) for q in questions)])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(gradebook_columns(questions))
    writer.writerows(rows)
    atomic_write(path, buffer.getvalue())


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.4g}"
