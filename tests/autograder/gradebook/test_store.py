"""The gradebook database: records round-trip, the latest result wins, writes are all-or-nothing."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from autograder import cli
from autograder.errors import AutograderError
from autograder.gradebook.results import SubmissionResult, TestOutcome
from autograder.gradebook.store import DB_NAME, Gradebook, exclusive

QUESTIONS = {"q1": 10.0, "q2": 5.0}
REPO = Path(__file__).resolve().parents[3]


def result(student: str = "s1", tests: tuple[TestOutcome, ...] = (), version: str = "v1",
           seed: int = 7, status: str = "graded") -> SubmissionResult:
    return SubmissionResult(student_id=student, status=status, max_score=15.0,
                            questions=QUESTIONS, tests=tests, seed=seed, source=f"{student}.ipynb",
                            notes=("a note",), cells=("cell 3: error",), grader_version=version,
                            seconds=1.25, extra={"restarts": 0, "log": "x"})


PASS_BOTH = (TestOutcome("shape", "q1", 4, True), TestOutcome("values", "q1", 6, True),
             TestOutcome("type", "q2", 5, True))
VALUES_FAIL = (TestOutcome("shape", "q1", 4, True),
               TestOutcome("values", "q1", 6, False, "values differ from the expected ones"),
               TestOutcome("type", "q2", 5, True))


@pytest.fixture
def book(tmp_path):
    with Gradebook.open(tmp_path / DB_NAME) as opened:
        yield opened


def count(book: Gradebook, table: str) -> int:
    return book.connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_record_round_trips_through_json(book):
    """What is stored comes back as an equal SubmissionResult, tests and all."""
    run = book.start_run("hw1", 7, "v1", "bubblewrap", ["grade"])
    original = result(tests=VALUES_FAIL)
    book.add_result(run, original, "abc")
    stored = book.latest("hw1")["s1"]
    assert stored.result == original and stored.submission_sha256 == "abc"
    assert SubmissionResult.from_record(original.to_record()) == original
    rows = book.connection.execute(
        "SELECT name, question, points, max_points, passed, feedback FROM test_results "
        "ORDER BY position").fetchall()
    assert rows[1] == ("values", "q1", 0.0, 6.0, 0, "values differ from the expected ones")


def test_latest_is_the_newest_grading_per_student_and_history_keeps_all(book):
    first = book.start_run("hw1", 7, "v1", "bubblewrap", [])
    book.add_result(first, result("s1", PASS_BOTH), "a")
    book.add_result(first, result("s2", VALUES_FAIL), "b")
    book.finish_run(first)
    second = book.start_run("hw1", 7, "v2", "bubblewrap", [])
    book.add_result(second, result("s1", VALUES_FAIL, version="v2"), "a")
    other = book.start_run("hw2", 7, "v9", "bubblewrap", [])
    book.add_result(other, result("s1", PASS_BOTH, version="v9"), "z")
    latest = book.latest("hw1")
    assert sorted(latest) == ["s1", "s2"]
    assert latest["s1"].run_id == second and latest["s1"].result.score == 9
    assert [g.run_id for g in book.history("hw1", "s1")] == [first, second]
    assert [r.status for r in book.runs("hw1")] == ["finished", "running"]


def test_a_failure_mid_write_leaves_no_half_record(book):
    """The result row is written, the test rows fail: the whole record is rolled back."""
    run = book.start_run("hw1", 7, "v1", "bubblewrap", [])
    broken = result(tests=(TestOutcome("shape", "q1", 4, True, feedback=object()),))  # type: ignore[arg-type]
    with pytest.raises(sqlite3.Error):
        book.add_result(run, broken, "abc")
    assert count(book, "results") == 0 and count(book, "test_results") == 0
    assert not book.connection.in_transaction
    book.add_result(run, result(tests=PASS_BOTH), "abc")
    assert count(book, "results") == 1 and count(book, "test_results") == 3
    assert book.connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_process_killed_mid_transaction_leaves_a_consistent_gradebook(tmp_path):
    """Kill -9 style: the process dies after inserting the result row, before the tests."""
    script = textwrap.dedent("""
        import os, sys
        from pathlib import Path
        from autograder.gradebook.results import SubmissionResult, TestOutcome
        from autograder.gradebook.store import Gradebook

        class DiesOnTests:
            def __init__(self, connection):
                self.connection = connection
            def execute(self, *args):
                return self.connection.execute(*args)
            def executemany(self, *args):
                os._exit(9)

        book = Gradebook.open(Path(sys.argv[1]))
        run = book.start_run("hw1", 1, "v1", "none", [])
        book.connection = DiesOnTests(book.connection)
        book.add_result(run, SubmissionResult("s1", "graded", 1.0, {"q1": 1.0},
                        (TestOutcome("t", "q1", 1.0, True),)), "abc")
    """)
    path = tmp_path / DB_NAME
    done = subprocess.run([sys.executable, "-c", script, str(path)], cwd=REPO, check=False,
                          capture_output=True, text=True)
    assert done.returncode == 9, done.stderr
    with Gradebook.open(path) as book:
        assert count(book, "runs") == 1 and count(book, "results") == 0
        assert book.connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert [r.status for r in book.runs("hw1")] == ["running"]  # resumable, not finished


def test_journal_is_wal_and_a_foreign_schema_is_refused(tmp_path):
    path = tmp_path / DB_NAME
    with Gradebook.open(path) as book:
        assert book.connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        book.connection.execute("PRAGMA user_version = 99")
    with pytest.raises(AutograderError, match="schema version 99"):
        Gradebook.open(path)
    with pytest.raises(AutograderError, match="no gradebook"):
        Gradebook.open(tmp_path / "nothing.sqlite", create=False)


def test_one_grading_run_per_folder_at_a_time(tmp_path):
    with exclusive(tmp_path), pytest.raises(AutograderError, match="another grading run"), \
            exclusive(tmp_path):
        pass
    with exclusive(tmp_path):  # released
        pass


def test_history_command_shows_every_grading_and_what_changed(tmp_path, capsys):
    with Gradebook.open(tmp_path / DB_NAME) as book:
        first = book.start_run("hw1", 7, "v1", "bubblewrap", [])
        book.add_result(first, result("s1", PASS_BOTH), "a" * 64)
        book.finish_run(first)
        again = book.start_run("hw1", 7, "v1", "bubblewrap", [])
        book.add_reuses(again, [book.latest("hw1")["s1"].id])
        book.finish_run(again)
        regrade = book.start_run("hw1", 7, "v2", "bubblewrap", [])
        book.add_result(regrade, result("s1", VALUES_FAIL, version="v2"), "a" * 64)
        book.finish_run(regrade)
    assert cli.main(["history", "hw1", "s1", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "2 grading(s)" in out
    assert "#1  run 1 (finished)" in out and "#2  run 3 (finished)" in out
    assert "graded  15/15" in out and "graded  9/15" in out and "q1 4/10  q2 5/5" in out
    assert "reused unchanged by run(s) 2" in out
    assert "submission unchanged; grader changed (v1 -> v2); seed unchanged" in out
    assert "flipped q1: values: passed -> failed (values differ from the expected ones)" in out
    assert cli.main(["history", "hw1", "nobody", "--out", str(tmp_path)]) == 2


def test_streamed_reads_are_the_latest_and_the_records_asked_for(book):
    """``each_latest`` and ``latest_keys`` are ``latest`` without the dict or the records;
    ``records`` reads ids in the order given, across chunks."""
    run = book.start_run("hw1", 7, "v1", "bubblewrap", ["test"])
    ids = [book.add_result(run, result(f"s{i:04d}", PASS_BOTH), f"sha{i}") for i in range(1200)]
    newer = book.add_result(run, result("s0003", VALUES_FAIL, status="timeout"), "sha-new")
    latest = book.latest("hw1")
    assert [s.result for s in book.each_latest("hw1")] == [s.result for s in latest.values()]
    keys = book.latest_keys("hw1")
    assert keys.keys() == latest.keys()
    for student, key in keys.items():
        stored = latest[student]
        assert (key.id, key.status) == (stored.id, stored.result.status)
        assert key.matches(stored.submission_sha256, "v1", 7)
        assert not key.matches(stored.submission_sha256, "v2", 7)
    assert keys["s0003"].id == newer and keys["s0003"].submission_sha256 == "sha-new"
    wanted = [ids[1100], newer, ids[0], *ids[500:1001]]
    assert [r.student_id for r in book.records(wanted)] == \
        ["s1100", "s0003", "s0000", *(f"s{i:04d}" for i in range(500, 1001))]
    assert next(iter(book.records([newer]))).status == "timeout"
    with pytest.raises(AutograderError, match="no result"):
        list(book.records([newer + 1]))
