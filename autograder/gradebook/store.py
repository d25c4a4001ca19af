"""The gradebook database: every grading run and every result, in SQLite (``OUT/gradebook.sqlite``).

What may happen here: open (and create) the embedded database, record runs,
results and per-test outcomes, and read them back (the latest result per
student, one student's history). Each finished submission is written in one
transaction (WAL journal), so a crash or Ctrl-C leaves either the whole record
or none of it. ``results`` rows are gradings; a later run that reuses a stored
result only adds a row to ``reuses``.

What may not happen here: grading, talking to student code, or writing the
exports (``batch`` writes ``gradebook.csv``, each student's ``results.json`` and
feedback, and the TA logs from what this module returns). Records are stored as
JSON and rebuilt as plain dataclasses; nothing is unpickled or evaluated.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from ..errors import AutograderError
from .results import SubmissionResult

DB_NAME = "gradebook.sqlite"
SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    assignment TEXT NOT NULL,
    started TEXT NOT NULL,
    finished TEXT,
    status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'interrupted')),
    seed INTEGER NOT NULL,
    grader_version TEXT NOT NULL,
    sandbox TEXT NOT NULL,
    argv TEXT NOT NULL,
    resumes INTEGER REFERENCES runs(id)
);
CREATE TABLE results (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs(id),
    assignment TEXT NOT NULL,
    student_id TEXT NOT NULL,
    submission_sha256 TEXT NOT NULL,
    grader_version TEXT NOT NULL,
    seed INTEGER,
    source TEXT NOT NULL,
    status TEXT NOT NULL,
    score REAL NOT NULL,
    max_score REAL NOT NULL,
    message TEXT NOT NULL,
    seconds REAL NOT NULL,
    graded_at TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX results_by_student ON results (assignment, student_id, id);
CREATE TABLE test_results (
    result_id INTEGER NOT NULL REFERENCES results(id),
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    question TEXT NOT NULL,
    points REAL NOT NULL,
    max_points REAL NOT NULL,
    passed INTEGER NOT NULL,
    feedback TEXT NOT NULL,
    PRIMARY KEY (result_id, position)
);
CREATE TABLE reuses (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    result_id INTEGER NOT NULL REFERENCES results(id),
    PRIMARY KEY (run_id, result_id)
);
"""


@dataclass(frozen=True, slots=True)
class Run:
    id: int
    assignment: str
    started: str
    finished: str | None
    status: str
    seed: int
    grader_version: str
    sandbox: str
    argv: tuple[str, ...]
    resumes: int | None


@dataclass(frozen=True, slots=True)
class Key:
    """A stored grading's reuse key and status, read without its record."""

    id: int
    student_id: str
    submission_sha256: str
    grader_version: str
    seed: int | None
    status: str

    def matches(self, sha256: str, grader_version: str, seed: int) -> bool:
        """``StoredResult.matches`` from the columns (``add_result`` copies them)."""
        return (self.submission_sha256, self.grader_version, self.seed) == \
            (sha256, grader_version, seed)


@dataclass(frozen=True, slots=True)
class StoredResult:
    """One grading of one submission as stored, with the record rebuilt."""

    id: int
    run_id: int
    submission_sha256: str
    graded_at: str
    result: SubmissionResult

    def matches(self, sha256: str, grader_version: str, seed: int) -> bool:
        """True if grading ``sha256`` with this grader version and seed would repeat this."""
        return (self.submission_sha256, self.result.grader_version, self.result.seed) == \
            (sha256, grader_version, seed)


class Gradebook:
    """An open gradebook database; use ``Gradebook.open`` and close it (``with``)."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self.connection = connection
        self.path = path

    @classmethod
    def open(cls, path: Path, *, create: bool = True) -> Gradebook:
        if not create and not path.is_file():
            raise AutograderError(f"no gradebook at {path} (grade into that folder first)")
        connection = sqlite3.connect(path, timeout=30, isolation_level=None)
        try:
            connection.execute("PRAGMA foreign_keys = ON")
            connection.execute("PRAGMA journal_mode = WAL")
            # WAL's documented safe setting: no fsync per commit; a power cut may lose the
            # last gradings (a resumed run grades them again), never corrupt the gradebook
            connection.execute("PRAGMA synchronous = NORMAL")
            version = _schema_version(connection)
            if version == 0 and create:
                with transaction(connection):
                    if _schema_version(connection) == 0:  # another process may have won
                        for statement in filter(str.strip, SCHEMA.split(";")):
                            connection.execute(statement)
                        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                version = _schema_version(connection)
            if version != SCHEMA_VERSION:
                raise AutograderError(f"{path}: gradebook schema version {version}, "
                                      f"this autograder reads version {SCHEMA_VERSION}")
        except BaseException:
            connection.close()
            raise
        return cls(connection, path)

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ runs

    def start_run(self, assignment: str, seed: int, grader_version: str, sandbox: str,
                  argv: list[str], resumes: int | None = None) -> int:
        with transaction(self.connection):
            cursor = self.connection.execute(
                "INSERT INTO runs (assignment, started, status, seed, grader_version, sandbox, "
                "argv, resumes) VALUES (?, ?, 'running', ?, ?, ?, ?, ?)",
                (assignment, _now(), seed, grader_version, sandbox, json.dumps(argv), resumes))
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def finish_run(self, run_id: int, status: str = "finished") -> None:
        with transaction(self.connection):
            self.connection.execute("UPDATE runs SET finished = ?, status = ? WHERE id = ?",
                                    (_now(), status, run_id))

    def runs(self, assignment: str) -> list[Run]:
        rows = self.connection.execute(
            "SELECT id, assignment, started, finished, status, seed, grader_version, sandbox, "
            "argv, resumes FROM runs WHERE assignment = ? ORDER BY id", (assignment,))
        return [Run(id=r[0], assignment=r[1], started=r[2], finished=r[3], status=r[4], seed=r[5],
                    grader_version=r[6], sandbox=r[7], argv=tuple(json.loads(r[8])), resumes=r[9])
                for r in rows]

    # --------------------------------------------------------------- results

    def add_result(self, run_id: int, result: SubmissionResult, sha256: str) -> int:
        """Store one grading and its tests in one transaction; return its id."""
        record = json.dumps(result.to_record(), default=str)
        assignment = self._assignment_of(run_id)
        with transaction(self.connection):
            cursor = self.connection.execute(
                "INSERT INTO results (run_id, assignment, student_id, submission_sha256, "
                "grader_version, seed, source, status, score, max_score, message, seconds, "
                "graded_at, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (run_id, assignment, result.student_id, sha256, result.grader_version,
                 result.seed, result.source, result.status, result.score, result.max_score,
                 result.message, result.seconds, _now(), record))
            result_id = cursor.lastrowid
            self.connection.executemany(
                "INSERT INTO test_results (result_id, position, name, question, points, "
                "max_points, passed, feedback) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(result_id, i, t.name, t.question, t.points, t.max_points, int(t.passed),
                  t.feedback) for i, t in enumerate(result.tests)])
        assert result_id is not None
        return result_id

    def add_reuses(self, run_id: int, result_ids: list[int]) -> None:
        with transaction(self.connection):
            self.connection.executemany("INSERT OR IGNORE INTO reuses VALUES (?, ?)",
                                        [(run_id, i) for i in result_ids])

    def latest(self, assignment: str) -> dict[str, StoredResult]:
        """The latest grading of every student of ``assignment``, by student id."""
        return {stored.result.student_id: stored for stored in self.each_latest(assignment)}

    def each_latest(self, assignment: str) -> Iterator[StoredResult]:
        """``latest`` one record at a time, by student id (memory flat in the class size)."""
        rows = self.connection.execute(
            f"SELECT {_RESULT_COLUMNS} FROM results WHERE id IN (SELECT max(id) FROM results "
            "WHERE assignment = ? GROUP BY student_id) ORDER BY student_id", (assignment,))
        yield from map(_stored, rows)

    def latest_keys(self, assignment: str) -> dict[str, Key]:
        """What decides whether each student's latest grading can be reused, without
        reading the records (the columns ``add_result`` copied out of them)."""
        rows = self.connection.execute(
            "SELECT id, student_id, submission_sha256, grader_version, seed, status FROM results "
            "WHERE id IN (SELECT max(id) FROM results WHERE assignment = ? GROUP BY student_id)",
            (assignment,))
        return {row[1]: Key(*row) for row in rows}

    def records(self, ids: list[int]) -> Iterator[SubmissionResult]:
        """The records of these result ids, in that order, a chunk of rows at a time."""
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start:start + _CHUNK]
            rows = dict(self.connection.execute(
                f"SELECT id, record FROM results WHERE id IN ({','.join('?' * len(chunk))})",
                chunk))
            for result_id in chunk:
                if result_id not in rows:
                    raise AutograderError(f"{self.path}: no result {result_id}")
                yield SubmissionResult.from_record(json.loads(rows[result_id]))

    def history(self, assignment: str, student_id: str) -> list[StoredResult]:
        """Every grading of one student, oldest first."""
        rows = self.connection.execute(
            f"SELECT {_RESULT_COLUMNS} FROM results WHERE assignment = ? AND student_id = ? "
            "ORDER BY id", (assignment, student_id))
        return [_stored(row) for row in rows]

    def reused_in(self, result_id: int) -> list[int]:
        rows = self.connection.execute(
            "SELECT run_id FROM reuses WHERE result_id = ? ORDER BY run_id", (result_id,))
        return [row[0] for row in rows]

    def _assignment_of(self, run_id: int) -> str:
        row = self.connection.execute("SELECT assignment FROM runs WHERE id = ?",
                                      (run_id,)).fetchone()
        if row is None:
            raise AutograderError(f"{self.path}: no run {run_id}")
        return str(row[0])


_RESULT_COLUMNS = "id, run_id, submission_sha256, graded_at, record"
_CHUNK = 500  # records read per query (SQLite's default limit is 32,766 parameters)


def _stored(row: tuple[Any, ...]) -> StoredResult:
    return StoredResult(row[0], row[1], row[2], row[3],
                        SubmissionResult.from_record(json.loads(row[4])))


@contextlib.contextmanager
def exclusive(out: Path) -> Iterator[None]:
    """Hold ``OUT/gradebook.sqlite.lock`` so two grading runs never write one folder at once."""
    out.mkdir(parents=True, exist_ok=True)
    with (out / f"{DB_NAME}.lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AutograderError(f"another grading run is writing to {out}") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def transaction(connection: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception (Ctrl-C included)."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def _schema_version(connection: sqlite3.Connection) -> int:
    return int(connection.execute("PRAGMA user_version").fetchone()[0])


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
