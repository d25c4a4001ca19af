"""What the TA report shows, computed from the gradebook's latest result per student.

Plain data only (no HTML): a row per student, an item analysis per hidden
test, and the list of submissions that need a person, each with its reasons
(a failed grading, a similar pair, lateness, receipt comments, regrades).
Late days and submission times are shown when a record carries them (as a
field or in ``extra``); nothing here assumes they exist.
"""

from __future__ import annotations

import dataclasses
import functools
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from ..gradebook.attention import reasons as attention_reasons
from ..gradebook.lateness import shown
from ..gradebook.results import SubmissionResult
from ..grading.cells import routine
from .similarity import Pair

NEEDS_A_PERSON = {"error": "grading failed (not the student's fault): regrade",
                  "timeout": "ran out of time: look at what was slow",
                  "invalid": "not a readable notebook: ask the student for the file",
                  "missing": "no notebook found: check the submission system"}
SIMILAR = 0.6  # pairs at or above this score need a person
MESSAGES_PER_TEST = 3


@dataclass
class StudentRow:
    student_id: str
    status: str
    score: float
    max_score: float
    questions: dict[str, float]
    late_days: Any = None
    submitted_at: Any = None
    restarts: int = 0
    flags: list[str] = field(default_factory=list)
    message: str = ""


@dataclass
class TestItem:
    question: str
    name: str
    max_points: float
    passed: int
    taken: int
    messages: list[tuple[str, int]]

    @property
    def rate(self) -> float:
        return self.passed / self.taken if self.taken else 0.0


@dataclass
class Attention:
    student_id: str
    reasons: list[str]


@dataclass
class ReportData:
    assignment: str
    questions: dict[str, float]
    rows: list[StudentRow]
    items: list[TestItem]
    attention: list[Attention]
    pairs: list[Pair]
    similarity_note: str
    stats: dict[str, float]
    zone: tzinfo | None = None  # the course's zone: times are shown in it

    @property
    def nobody(self) -> list[TestItem]:
        return [i for i in self.items if i.taken and i.passed == 0]

    @property
    def everybody(self) -> list[TestItem]:
        return [i for i in self.items if i.taken and i.passed == i.taken]

    @functools.cached_property
    def has_late(self) -> bool:
        """Once per report (the index asks in every row: 10,000 rows made it 66 s)."""
        return any(r.late_days not in (None, "") or r.submitted_at for r in self.rows)


def _field(result: SubmissionResult, name: str) -> Any:
    value = getattr(result, name, None)
    if value is None and isinstance(result.extra, dict):
        value = result.extra.get(name)
    return value


def build(assignment: str, questions: dict[str, float], results: Iterable[SubmissionResult],
          pairs: list[Pair], similarity_note: str = "", zone: tzinfo | None = None
          ) -> ReportData:
    """``zone``: the course's (``ledger.Adjustments.zone``); times are shown in it.

    One pass over ``results`` (which may be a stream from the gradebook): of each
    result only its row, its test outcomes' counts and its reasons are kept.
    ``pairs`` may come later: ``with_similarity``.
    """
    rows, attention, items = [], [], Items()
    for r in results:
        row = _row(r, zone)
        rows.append(row)
        items.add(r)
        attention.append(Attention(row.student_id, [*_failed(row), *attention_reasons(r)]))
    rows.sort(key=lambda row: row.student_id)
    scores = [row.score for row in rows if row.status != "missing"]
    stats: dict[str, float] = {"n": len(scores)}
    if scores:
        stats.update(mean=statistics.fmean(scores), median=statistics.median(scores),
                     min=min(scores), max=max(scores))
    data = ReportData(assignment, dict(questions), rows, items.done(), attention, [], "",
                      stats, zone)
    return with_similarity(data, pairs, similarity_note)


def with_similarity(data: ReportData, pairs: list[Pair], note: str) -> ReportData:
    """``data`` (from ``build`` with no pairs) with the similarity's pairs and note: a
    pair at ``SIMILAR`` or more flags both students and is a reason to look at each
    (after the reasons of a grading that failed, before lateness and the rest). The
    figures need no pairs, so the report can start drawing them before comparing."""
    similar: defaultdict[str, list[str]] = defaultdict(list)
    for pair in (p for p in pairs if p.score >= SIMILAR):
        for me, other in ((pair.a, pair.b), (pair.b, pair.a)):
            similar[me].append(f"similar to {other} ({pair.score:.0%})")
    rows, attention = [], []
    reasons_of = {entry.student_id: entry.reasons for entry in data.attention}
    for row in data.rows:
        also = similar.get(row.student_id, [])
        rows.append(dataclasses.replace(row, flags=[*row.flags, *also]) if also else row)
        reasons = reasons_of.get(row.student_id, [])
        failed = len(_failed(row))  # they come first; lateness, comments, regrades after
        reasons = [*reasons[:failed], *also, *reasons[failed:]]
        if reasons:
            attention.append(Attention(row.student_id, reasons))
    return dataclasses.replace(data, rows=rows, attention=attention, pairs=pairs,
                               similarity_note=note)


def _failed(row: StudentRow) -> list[str]:
    """The reasons a grading that did not end in a grade gives: its status's, its message."""
    if row.status not in NEEDS_A_PERSON:
        return []
    return [NEEDS_A_PERSON[row.status], *([row.message] if row.message else [])]


def _row(r: SubmissionResult, zone: tzinfo | None) -> StudentRow:
    restarts = r.extra.get("restarts", 0) if isinstance(r.extra, dict) else 0
    row = StudentRow(r.student_id, r.status, r.score, r.max_score, r.question_scores(),
                     _field(r, "late_days"), shown(_field(r, "submitted_at"), zone),
                     restarts if isinstance(restarts, int) else 0, message=r.message)
    if r.status != "graded":
        row.flags.append(r.status)
    if isinstance(row.late_days, int | float) and row.late_days > 0:
        row.flags.append(f"late {row.late_days:g} d")
    if row.restarts:
        row.flags.append(f"{row.restarts} restart(s)")
    noted = len(r.notes) + sum(not routine(line) for line in r.cells)
    if noted:
        row.flags.append(f"{noted} note(s)")
    return row


def item_analysis(results: Iterable[SubmissionResult]) -> list[TestItem]:
    """Each hidden test: how many of the submissions that ran it passed; common failures."""
    items = Items()
    for r in results:
        items.add(r)
    return items.done()


class Items:
    """``item_analysis`` one result at a time."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], TestItem] = {}
        self.failures: dict[tuple[str, str], Counter[str]] = {}

    def add(self, r: SubmissionResult) -> None:
        for test in r.tests:
            key = (test.question, test.name)
            item = self.items.setdefault(key, TestItem(test.question, test.name,
                                                       test.max_points, 0, 0, []))
            item.taken += 1
            if test.passed:
                item.passed += 1
            elif test.feedback:
                self.failures.setdefault(key, Counter())[
                    " ".join(test.feedback.split())[:300]] += 1

    def done(self) -> list[TestItem]:
        for key, item in self.items.items():
            item.messages = self.failures.get(key, Counter()).most_common(MESSAGES_PER_TEST)
        return sorted(self.items.values(), key=lambda i: (i.rate, i.question, i.name))
