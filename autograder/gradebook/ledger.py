"""What a TA adds to the autograder's results: submission times, deadlines, score overrides.

Kept in three extra tables of ``OUT/gradebook.sqlite`` (created if absent; the
stored gradings are never changed), and applied to every export, so they are
never lost on a later run:

* ``submitted``: when each student's graded attempt was handed in (from intake);
* ``deadlines``: the assignment's deadline and per-student extensions (the last
  ``--deadline``/``--extensions`` given); ``deadline_rules``: the ``--grace`` given
  with that deadline and the course's zone (``--timezone``, else the deadline's);
* ``sources``: where the last ``grade`` read the submissions (``report`` reads them
  there again to compare code);
* ``overrides``: ``student_id,question,points,who,why`` rows (a regrade granted),
  appended with a time; the latest per student and question wins.

``Adjustments.apply`` turns a stored result into the exported one: an override
replaces the question's tests by one "regrade" test worth the granted points;
``extra`` gets ``submitted_at`` and ``late_days`` (a note says both) and, for the
TA log only, the Blackboard receipts' facts (name, username, every attempt's
time, comments, submission text and files).
"""

from __future__ import annotations

import dataclasses
import json
import math
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ..errors import AutograderError
from ..intake.submission import Submission
from .lateness import Deadlines, late_days, read_csv_rows, shown, zone_of
from .results import SubmissionResult, TestOutcome
from .store import Gradebook, transaction

TABLES = """
CREATE TABLE IF NOT EXISTS submitted (
    assignment TEXT NOT NULL, student_id TEXT NOT NULL, submitted_at TEXT, info TEXT NOT NULL,
    PRIMARY KEY (assignment, student_id));
CREATE TABLE IF NOT EXISTS deadlines (
    assignment TEXT NOT NULL, student_id TEXT NOT NULL, deadline TEXT NOT NULL,
    PRIMARY KEY (assignment, student_id));
CREATE TABLE IF NOT EXISTS deadline_rules (
    assignment TEXT PRIMARY KEY, grace_seconds REAL NOT NULL, zone TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sources (
    assignment TEXT PRIMARY KEY, path TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS overrides (
    id INTEGER PRIMARY KEY, assignment TEXT NOT NULL, student_id TEXT NOT NULL,
    question TEXT NOT NULL, points REAL NOT NULL, who TEXT NOT NULL, why TEXT NOT NULL,
    added_at TEXT NOT NULL);
"""
LATE_COLUMNS = ("submitted_at", "late_days")


@dataclass(frozen=True)
class Override:
    student_id: str
    question: str
    points: float
    who: str
    why: str
    added_at: str = ""


def ensure(connection: sqlite3.Connection) -> None:
    for statement in filter(str.strip, TABLES.split(";")):
        connection.execute(statement)


def record_intake(connection: sqlite3.Connection, assignment: str,
                  submissions: Iterable[Submission]) -> None:
    ensure(connection)
    with transaction(connection):
        connection.executemany(
            "INSERT OR REPLACE INTO submitted VALUES (?, ?, ?, ?)",
            [(assignment, s.student_id, s.submitted_at.isoformat() if s.submitted_at else None,
              json.dumps(s.info, default=str)) for s in submissions])


def set_deadlines(connection: sqlite3.Connection, assignment: str, deadlines: Deadlines) -> None:
    ensure(connection)
    with transaction(connection):
        connection.execute("DELETE FROM deadlines WHERE assignment = ?", (assignment,))
        rows = [("", deadlines.default), *deadlines.extensions.items()]
        connection.executemany("INSERT INTO deadlines VALUES (?, ?, ?)",
                               [(assignment, student, moment.isoformat())
                                for student, moment in rows])
        connection.execute("INSERT OR REPLACE INTO deadline_rules VALUES (?, ?, ?)",
                           (assignment, deadlines.grace.total_seconds(), deadlines.zone_name))


def set_source(connection: sqlite3.Connection, assignment: str, path: Path) -> None:
    ensure(connection)
    with transaction(connection):
        connection.execute("INSERT OR REPLACE INTO sources VALUES (?, ?)",
                           (assignment, str(path.resolve())))


def source(connection: sqlite3.Connection, assignment: str) -> Path | None:
    """The folder or zip the last ``grade`` of ``assignment`` read (absolute), if any."""
    ensure(connection)
    row = connection.execute("SELECT path FROM sources WHERE assignment = ?",
                             (assignment,)).fetchone()
    return Path(row[0]) if row else None


def set_zone(connection: sqlite3.Connection, assignment: str, zone_name: str) -> None:
    """``--timezone`` without ``--deadline``: the zone times are shown in (grace kept)."""
    ensure(connection)
    with transaction(connection):
        connection.execute("INSERT OR IGNORE INTO deadline_rules VALUES (?, 0, '')",
                           (assignment,))
        connection.execute("UPDATE deadline_rules SET zone = ? WHERE assignment = ?",
                           (zone_name, assignment))


def read_overrides(path: Path, questions: dict[str, float]) -> list[Override]:
    """``student_id,question,points,who,why``; a bad row is an error naming its line."""
    rows = read_csv_rows(path)
    header = ["student_id", "question", "points", "who", "why"]
    if not rows or [c.strip().lower() for c in rows[0]] != header:
        raise AutograderError(f"{path}:1: the header must be {','.join(header)}")
    found = []
    for line, row in enumerate(rows[1:], 2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != 5:
            raise AutograderError(f"{path}:{line}: expected 5 fields, got {len(row)}")
        student, question, points, who, why = (cell.strip() for cell in row)
        if question not in questions:
            raise AutograderError(f"{path}:{line}: {question!r} is not a question "
                                  f"({', '.join(questions)})")
        try:
            value = float(points)
        except ValueError:
            value = math.nan
        if not 0 <= value <= questions[question]:
            raise AutograderError(f"{path}:{line}: points {points!r} not in 0.."
                                  f"{questions[question]:g}")
        if not student or not who or not why:
            raise AutograderError(f"{path}:{line}: student_id, who and why are required")
        found.append(Override(student, question, value, who, why))
    return found


def add_overrides(connection: sqlite3.Connection, assignment: str,
                  overrides: Iterable[Override]) -> int:
    """Append the overrides that differ from the one in force; return how many were new."""
    ensure(connection)
    current = _overrides(connection, assignment)
    new = [o for o in overrides
           if (o.points, o.who, o.why) != _key(current.get((o.student_id, o.question)))]
    now = datetime.now(UTC).isoformat(timespec="seconds")
    with transaction(connection):
        connection.executemany(
            "INSERT INTO overrides (assignment, student_id, question, points, who, why, "
            "added_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(assignment, o.student_id, o.question, o.points, o.who, o.why, now) for o in new])
    return len(new)


def override_history(connection: sqlite3.Connection, assignment: str,
                     student_id: str) -> list[Override]:
    ensure(connection)
    rows = connection.execute(
        "SELECT student_id, question, points, who, why, added_at FROM overrides "
        "WHERE assignment = ? AND student_id = ? ORDER BY id", (assignment, student_id))
    return [Override(*row) for row in rows]


def current(book: Gradebook, assignment: str) -> dict[str, SubmissionResult]:
    """The one truth per score: each student's latest result with the ledger applied.

    Every output that shows a score (the terminal table, the report, gradebook.csv,
    results.json, feedback, the Blackboard upload, ``history``) reads it here.
    """
    adjustments = Adjustments(book.connection, assignment)
    return {student: adjustments.apply(stored.result)
            for student, stored in book.latest(assignment).items()}


def without_submission(book: Gradebook, assignment: str,
                       overrides: Iterable[Override]) -> list[str]:
    """The ids of ``overrides`` with no submission of ``assignment`` found by intake (this
    run's or an earlier one's) and no grading (a typo, or a student who handed nothing in)."""
    ensure(book.connection)
    found = {row[0] for row in book.connection.execute(
        "SELECT student_id FROM submitted WHERE assignment = ?", (assignment,))}
    return sorted({o.student_id for o in overrides} - found - set(book.latest(assignment)))


def _key(override: Override | None) -> tuple[float, str, str] | None:
    return None if override is None else (override.points, override.who, override.why)


def _overrides(connection: sqlite3.Connection, assignment: str
               ) -> dict[tuple[str, str], Override]:
    rows = connection.execute(
        "SELECT student_id, question, points, who, why, added_at FROM overrides "
        "WHERE assignment = ? ORDER BY id", (assignment,))
    return {(row[0], row[1]): Override(*row) for row in rows}


class Adjustments:
    """Everything of the ledger that changes one assignment's exports."""

    def __init__(self, connection: sqlite3.Connection, assignment: str) -> None:
        ensure(connection)
        self.overrides = _overrides(connection, assignment)
        rows = connection.execute("SELECT student_id, deadline FROM deadlines "
                                  "WHERE assignment = ?", (assignment,))
        self.deadlines = {row[0]: datetime.fromisoformat(row[1]) for row in rows}
        rule = connection.execute("SELECT grace_seconds, zone FROM deadline_rules "
                                  "WHERE assignment = ?", (assignment,)).fetchone()
        self.grace = timedelta(seconds=rule[0] if rule else 0)
        self.zone = zone_of(rule[1] if rule else "", self.deadlines.get(""))
        submitted = connection.execute("SELECT student_id, submitted_at, info FROM submitted "
                                       "WHERE assignment = ?", (assignment,)).fetchall()
        self.submitted = {row[0]: datetime.fromisoformat(row[1]) for row in submitted if row[1]}
        self.info = {row[0]: json.loads(row[2]) for row in submitted if row[2] not in ("", "{}")}

    @property
    def columns(self) -> tuple[str, ...]:
        return LATE_COLUMNS

    def changes(self, student_id: str) -> bool:
        return any(key[0] == student_id for key in self.overrides) or bool(self.deadlines)

    def apply(self, result: SubmissionResult) -> SubmissionResult:
        student = result.student_id
        tests, notes = list(result.tests), list(result.notes)
        regrades = []
        for (who_id, question), override in self.overrides.items():
            if who_id != student:
                continue
            tests = [t for t in tests if t.question != question]
            tests.append(TestOutcome(
                name=f"regrade by {override.who}: {override.why}", question=question,
                max_points=override.points, passed=True))
            notes.append(f"{question}: regrade granted by {override.who} ({override.why}): "
                         f"{override.points:g} point(s)")
            regrades.append(f"{question} regraded to {override.points:g} by {override.who} "
                            f"({override.why})")
        submitted = self.submitted.get(student)
        deadline = self.deadlines.get(student, self.deadlines.get(""))
        late = late_days(submitted, deadline, self.grace)
        if submitted is not None and deadline is not None:
            extended = " (extended)" if student in self.deadlines else ""
            grace = (f" + {self.grace.total_seconds() / 60:g} min grace" if self.grace
                     else "")
            notes.append(f"submitted {shown(submitted, self.zone)}; deadline{extended} "
                         f"{shown(deadline, self.zone)}{grace}: " +
                         (f"{late} day(s) late" if late else "on time"))
        extra = {"submitted_at": "", "late_days": "", **result.extra}  # a record's own kept
        if submitted is not None:
            extra["submitted_at"] = submitted.isoformat()
        if late is not None:
            extra["late_days"] = late
        if regrades:  # TA-only (needs a person); the student sees the notes
            extra["regrades"] = regrades
        if student in self.info:  # TA-only (the TA log): receipts' name, comments, files
            extra["blackboard"] = self.info[student]
        return dataclasses.replace(result, tests=tuple(tests), notes=tuple(notes), extra=extra)
