"""Result records and their exports: Gradescope ``results.json`` and the gradebook CSV.

One ``SubmissionResult`` per submission, whatever happened to it. ``status``
is one of ``STATUSES``; a score exists only for tests the trusted side saw pass.

``results.json`` is student-visible (Gradescope shows it), so it carries only
what a student may read: test messages (student-safe by construction), the
hidden tests' names unless the TA hides them ("check 2 of 4"), and a generic
message when grading failed for a reason that is not the student's. The full
record, with the TA-only diagnostics in ``extra`` (``internal_errors``,
``worker_output``, ``pytest_log``), goes to ``write_ta_log`` and the database.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import safetext

STATUSES = {
    "graded": "the hidden graders ran; the score is what passed",
    "invalid": "the submission is not a readable notebook with code (see message)",
    "timeout": "the notebook used up its total time limit; tests that could not run scored 0",
    "error": "grading failed for a reason that is not the student's (see message); score 0",
    "missing": "no notebook was found for this student",
}
# What of ``SubmissionResult.extra`` may reach results.json; everything else is TA-only.
STUDENT_EXTRA = ("restarts",)
ERROR_MESSAGE_FOR_STUDENT = ("Grading failed for a reason that is not yours, so nothing was "
                             "scored yet; the course staff have the details.")
TA_LOG_DIR = "_ta_logs"  # not a possible student id (those start with a letter or digit)
# Files of the engine at the top of OUT: no student's folder may take one of these names.
TA_FILES = frozenset({TA_LOG_DIR, "gradebook.csv", "gradebook.sqlite", "gradebook.sqlite-wal",
                      "gradebook.sqlite-shm", "gradebook.sqlite-journal", "gradebook.sqlite.lock",
                      "run.txt", "report"})  # report: the TA report (autograder.report)
# Caps on what one submission can put into the exports (results.json, feedback, SQLite).
MAX_TEXT = 4000  # a message, a note, a test's feedback
MAX_CELL_LINES = 200  # lines about the notebook's cells
MAX_NOTES = 50
MAX_EXTRA_TEXT = 256 * 1024  # each TA-only diagnostic (worker output, pytest log)


@dataclass(frozen=True, slots=True)
class TestOutcome:
    """One hidden test: passed or not, and a message that is safe for the student.

    A test that failed can still earn ``partial`` (a fraction in [0, 1)) of its
    points, when its grader gives partial credit (``autograder.toolkit.checks.PartialCredit``).
    """

    __test__ = False  # not a pytest test class, despite the name

    name: str
    question: str
    max_points: float
    passed: bool
    feedback: str = ""
    seconds: float = 0.0
    partial: float = 0.0

    @property
    def points(self) -> float:
        return self.max_points if self.passed else self.max_points * self.partial


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

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> SubmissionResult:
        """Rebuild a result from ``to_record()`` output (as read back from JSON)."""
        fields = dict(record)
        fields["tests"] = tuple(TestOutcome(**test) for test in fields.get("tests", ()))
        fields["notes"] = tuple(fields.get("notes", ()))
        fields["cells"] = tuple(fields.get("cells", ()))
        return cls(**fields)

    @property
    def student_message(self) -> str:
        """``message`` as a student may read it: the details of an ``error`` are the TA's."""
        return ERROR_MESSAGE_FOR_STUDENT if self.status == "error" else self.message

    def test_labels(self, *, show_test_names: bool = True) -> list[str]:
        """Each test's name, or "check N of M" (N counted within its question) when hidden."""
        if show_test_names:
            return [test.name for test in self.tests]
        totals, seen = Counter(t.question for t in self.tests), Counter[str]()
        labels = []
        for test in self.tests:
            seen[test.question] += 1
            labels.append(f"check {seen[test.question]} of {totals[test.question]}")
        return labels

    def question_scores(self) -> dict[str, float]:
        earned = dict.fromkeys(self.questions, 0.0)
        for test in self.tests:
            earned[test.question] = earned.get(test.question, 0.0) + test.points
        return earned

    def to_gradescope(self, *, show_test_names: bool = True) -> dict[str, Any]:
        """Gradescope's results.json (student-visible): score, tests[], output, our own fields."""
        labels = self.test_labels(show_test_names=show_test_names)
        tests = [{
            "name": f"{t.question}: {label}",
            "score": t.points,
            "max_score": t.max_points,
            "status": "passed" if t.passed else "failed",
            "output": safetext.code_span(t.feedback) if not t.passed else "Passed.",
            "tags": [t.question],
            "visibility": "visible",
            "name_format": "md",  # test names quote code in `backticks`
            "output_format": "md",  # the student's text is a code span: inert
        } for t, label in zip(self.tests, labels, strict=True)]
        message = self.student_message
        output = [f"Status: {self.status}." + (f" {message}" if message else "")]
        output += [f"Note: {note}" for note in self.notes]
        output += [f"Notebook: {line}" for line in self.cells]
        return {
            "score": self.score,
            "max_score": self.max_score,
            "output": "\n".join(output),
            "output_format": "text",  # plain lines: status, notes, notebook errors
            "execution_time": math.ceil(self.seconds),
            "visibility": "visible",
            "stdout_visibility": "hidden",
            "tests": tests,
            "extra_data": {
                "student_id": self.student_id, "status": self.status, "message": message,
                "seed": self.seed, "source": self.source, "grader_version": self.grader_version,
                "questions": self.question_scores(), "seconds": round(self.seconds, 3),
                **{key: self.extra[key] for key in STUDENT_EXTRA if key in self.extra},
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


class UnsafePath(ValueError):
    """A path under OUT that a student id would put outside OUT or onto a TA file."""


def unsafe_id(student_id: str) -> str | None:
    """Why ``student_id`` cannot name a folder under OUT, or None if it can."""
    if not student_id or student_id in (".", ".."):
        return "it is empty, '.' or '..'"
    if student_id.startswith(("_", ".")):
        return "it starts with '_' or '.' (reserved for the engine's files)"
    if student_id.lower() in TA_FILES:
        return "it is the name of one of the engine's files"
    if any(c in student_id for c in "/\\\0") or safetext.one_line(student_id) != student_id:
        return "it holds a path separator or a control character"
    return None


def inside(out_dir: Path, *parts: str) -> Path:
    """``out_dir / parts``, checked to stay inside ``out_dir`` and off the TA files."""
    if parts and (why := unsafe_id(parts[0])) and parts[0] != TA_LOG_DIR:
        raise UnsafePath(f"{parts[0]!r} cannot be a folder under the output folder: {why}")
    root = out_dir.resolve()
    path = root.joinpath(*parts).resolve()
    if path == root or not path.is_relative_to(root):
        raise UnsafePath(f"{'/'.join(parts)!r} is not inside {out_dir}")
    return path


def sanitized(result: SubmissionResult) -> SubmissionResult:
    """``result`` with every string valid UTF-8, without control characters where a person
    reads it, and capped in size; what could not be kept as it was goes, as hex, into
    ``extra["original_text"]`` (TA log and database only)."""
    originals: dict[str, str] = {}

    def text(value: Any, where: str, limit: int = MAX_TEXT) -> str:
        if (raw := safetext.original(value)) is not None:
            originals[where] = raw[:2 * MAX_TEXT]
        return safetext.capped(safetext.shown(value), limit)

    tests = tuple(TestOutcome(safetext.one_line(t.name)[:200], safetext.one_line(t.question)[:80],
                              t.max_points, t.passed, text(t.feedback, f"tests[{i}]"), t.seconds)
                  for i, t in enumerate(result.tests))
    cells = tuple(text(c, f"cells[{i}]") for i, c in enumerate(result.cells[:MAX_CELL_LINES]))
    if len(result.cells) > MAX_CELL_LINES:
        cells += (f"... {len(result.cells) - MAX_CELL_LINES} more lines about cells not kept",)
    notes = tuple(text(n, f"notes[{i}]") for i, n in enumerate(result.notes[:MAX_NOTES]))
    extra = _safe_data(result.extra)
    if originals:
        extra["original_text"] = originals
    return SubmissionResult(
        student_id=safetext.one_line(result.student_id), status=result.status,
        max_score=result.max_score, questions=dict(result.questions), tests=tests,
        message=text(result.message, "message"), seed=result.seed,
        source=text(result.source, "source", 1000), notes=notes, cells=cells,
        grader_version=safetext.utf8(result.grader_version), seconds=result.seconds, extra=extra)


def _safe_data(value: Any, depth: int = 0) -> Any:
    """TA-only data: valid UTF-8 everywhere (keys too), strings capped, depth bounded."""
    if isinstance(value, str):
        return safetext.capped(safetext.utf8(value), MAX_EXTRA_TEXT)
    if value is None or isinstance(value, bool | int | float) or depth > 20:
        return value if depth <= 20 else None
    if isinstance(value, dict):
        return {safetext.utf8(k): _safe_data(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_safe_data(v, depth + 1) for v in value]
    return safetext.capped(safetext.utf8(value), MAX_EXTRA_TEXT)


def write_results_json(result: SubmissionResult, out_dir: Path, *,
                       show_test_names: bool = True) -> Path:
    """``OUT/<student_id>/results.json``: the student-visible Gradescope file."""
    path = inside(out_dir, result.student_id, "results.json")
    data = result.to_gradescope(show_test_names=show_test_names)
    atomic_write(path, json.dumps(data, indent=2, allow_nan=False) + "\n")
    return path


def write_ta_log(result: SubmissionResult, out_dir: Path) -> Path:
    """``OUT/_ta_logs/<student_id>.json``: the full record, TA-only diagnostics included.

    Kept out of the student's folder so ``OUT/<student_id>/`` can be handed back as is.
    """
    if why := unsafe_id(result.student_id):
        raise UnsafePath(f"{result.student_id!r} cannot name a TA log: {why}")
    path = inside(out_dir, TA_LOG_DIR, f"{result.student_id}.json")
    atomic_write(path, json.dumps(result.to_record(), indent=2, default=str) + "\n")
    return path


def gradebook_columns(questions: Iterable[str]) -> list[str]:
    return ["student_id", "status", "score", "max_score", *questions]


def write_gradebook(results: Iterable[SubmissionResult], questions: list[str], path: Path,
                    extra_columns: Iterable[str] = ()) -> None:
    """One row per student, sorted by id: status, score, max_score, points per question,
    then ``extra_columns`` (``submitted_at``, ``late_days``) from each result's ``extra``."""
    extra_columns = list(extra_columns)
    rows = []
    for result in sorted(results, key=lambda r: r.student_id):
        earned = result.question_scores()
        rows.append([safetext.one_line(result.student_id), result.status,
                     _number(result.score), _number(result.max_score),
                     *(_number(earned.get(q, 0.0)) for q in questions),
                     *(str(result.extra.get(c, "")) for c in extra_columns)])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")  # every cell: never a formula
    writer.writerow(map(safetext.csv_cell, [*gradebook_columns(questions), *extra_columns]))
    writer.writerows(map(safetext.csv_cell, row) for row in rows)
    atomic_write(path, buffer.getvalue())


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.4g}"
