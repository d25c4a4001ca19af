"""What an incremental export needs: which students' files are up to date.

``OUT/.exported.json`` keeps, per student, the digest of what their files were
last written from (``export_key``: the record with the ledger's adjustments, the
export choice, the code that writes them); ``batch.run.export`` writes a
student's files again only when that digest changed or a file is missing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import overload

from ..gradebook import ledger
from ..gradebook.results import TA_LOG_DIR, SubmissionResult, TestOutcome
from ..gradebook.store import Gradebook

EXPORTED = ".exported.json"  # student id -> digest of what their files were last written from


def files_present(out: Path, student_id: str) -> bool:
    """Whether every file ``export_student`` writes for this student is there."""
    return all(path.is_file() for path in (*(out / student_id / name for name in (
        "results.json", "feedback.md", "feedback.html")), out / TA_LOG_DIR / f"{student_id}.json"))


def read_exported(out: Path) -> dict[str, str]:
    try:
        data = json.loads((out / EXPORTED).read_text(encoding="utf-8"))
        return {k: v for k, v in data.items() if isinstance(v, str)}
    except (OSError, ValueError, AttributeError):  # missing, damaged, not an object
        return {}


def export_key(result: SubmissionResult, assignment: str, show_test_names: bool,
               code: str) -> str:
    # repr, not to_record(): the dataclasses' repr shows every field as well, ten times faster
    return hashlib.sha256(f"{assignment}\0{show_test_names}\0{code}\0{result!r}"
                          .encode()).hexdigest()


def export_code() -> str:
    """A digest of the code that writes a student's files (gradebook/, batch/run.py, this)."""
    digest = hashlib.sha256()
    for path in sorted(Path(ledger.__file__).parent.glob("*.py")) + \
            [Path(__file__).with_name("run.py"), Path(__file__)]:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def csv_row_of(result: SubmissionResult, columns: Iterable[str]) -> SubmissionResult:
    """What ``write_gradebook`` reads of a result, small: one test per question with its
    points, and of ``extra`` only the CSV's columns (the whole record is not kept)."""
    earned = result.question_scores()
    return SubmissionResult(
        student_id=result.student_id, status=result.status, max_score=result.max_score,
        questions=result.questions,
        tests=tuple(TestOutcome(q, q, points, True) for q, points in earned.items()),
        extra={c: result.extra[c] for c in columns if c in result.extra})


class RunResults(Sequence[SubmissionResult]):
    """A run's records (with the ledger's adjustments), read from the gradebook each time
    they are used, a chunk at a time; kept in memory after the first full read when they
    are at most ``KEPT`` (the terminal's summary reads a small run several times)."""

    KEPT = 1000

    def __init__(self, database: Path, assignment: str, ids: list[int]) -> None:
        self.database, self.assignment, self.ids = database, assignment, ids
        self._kept: list[SubmissionResult] | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def __iter__(self) -> Iterator[SubmissionResult]:
        if self._kept is not None:
            yield from self._kept
            return
        kept: list[SubmissionResult] | None = [] if len(self.ids) <= self.KEPT else None
        with Gradebook.open(self.database, create=False) as book:
            adjustments = ledger.Adjustments(book.connection, self.assignment)
            for result in book.records(self.ids):
                shown = adjustments.apply(result)
                if kept is not None:
                    kept.append(shown)
                yield shown
        self._kept = kept

    @overload
    def __getitem__(self, index: int) -> SubmissionResult: ...

    @overload
    def __getitem__(self, index: slice) -> list[SubmissionResult]: ...

    def __getitem__(self, index: int | slice) -> SubmissionResult | list[SubmissionResult]:
        if self._kept is not None:
            return self._kept[index]
        wanted = self.ids[index]
        found = self._read(wanted if isinstance(wanted, list) else [wanted])
        return found if isinstance(index, slice) else found[0]

    def _read(self, ids: list[int]) -> list[SubmissionResult]:
        with Gradebook.open(self.database, create=False) as book:
            adjustments = ledger.Adjustments(book.connection, self.assignment)
            return [adjustments.apply(result) for result in book.records(ids)]
