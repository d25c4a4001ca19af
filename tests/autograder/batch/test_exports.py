"""A run's results are read from the gradebook when used (``RunResults``), and
gradebook.csv is written from small rows (``csv_row_of``) identical to the full records'."""

from __future__ import annotations

from autograder.batch.exports import RunResults, csv_row_of
from autograder.gradebook.ledger import Override, add_overrides
from autograder.gradebook.results import SubmissionResult, TestOutcome, write_gradebook
from autograder.gradebook.store import DB_NAME, Gradebook

QUESTIONS = {"q1": 10.0, "q2": 5.0}
TESTS = (TestOutcome("shape", "q1", 4, True), TestOutcome("values", "q1", 6, False, "no", 0.3,
                                                          0.35),
         TestOutcome("type", "q2", 5, False, "wrong type", 0.1, 1 / 3))


def result(student: str, **extra: object) -> SubmissionResult:
    return SubmissionResult(student_id=student, status="graded", max_score=15.0,
                            questions=QUESTIONS, tests=TESTS, seed=1, notes=("n",),
                            extra={"pytest_log": "x" * 1000, **extra})


def test_run_results_read_the_run_from_the_gradebook_with_the_ledger(tmp_path, monkeypatch):
    with Gradebook.open(tmp_path / DB_NAME) as book:
        run = book.start_run("hw1", 1, "v1", "none", ["test"])
        ids = [book.add_result(run, result(f"s{i}"), "sha") for i in range(5)]
        add_overrides(book.connection, "hw1", [Override("s3", "q2", 5.0, "ta", "typo")])
    for kept in (1000, 0):  # kept in memory, or read again every time
        monkeypatch.setattr(RunResults, "KEPT", kept)
        results = RunResults(tmp_path / DB_NAME, "hw1", [ids[4], ids[0], ids[3]])
        assert len(results) == 3
        assert [r.student_id for r in results] == ["s4", "s0", "s3"]
        assert list(results) == list(results)
        assert results[2].question_scores()["q2"] == 5.0  # the regrade applied
        assert results[0].question_scores() == result("s4").question_scores()
        assert results[0].extra["pytest_log"] == "x" * 1000  # the whole record
        assert [r.student_id for r in results[1:]] == ["s0", "s3"]


def test_csv_rows_write_the_same_gradebook_as_the_records(tmp_path):
    records = [result("b", late_days=2, submitted_at="2026-01-02T10:00"),
               result("a"), result("c", late_days=0)]
    columns = ("submitted_at", "late_days")
    write_gradebook(records, list(QUESTIONS), tmp_path / "full.csv", columns)
    write_gradebook([csv_row_of(r, columns) for r in records], list(QUESTIONS),
                    tmp_path / "rows.csv", columns)
    assert (tmp_path / "rows.csv").read_text() == (tmp_path / "full.csv").read_text()
    assert "pytest_log" not in csv_row_of(records[0], columns).extra
