"""Batches are resumable and idempotent: an interrupted run resumes, unchanged work is reused,
changed work (submission, grader version, seed) is regraded, and nothing is lost or duplicated.

Grading really runs (in the batch's process pool, never in this process) on tiny notebooks
under tight limits, so each batch takes a second or two.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import nbformat
import pytest

from autograder import cli
from autograder.batch.run import grade_all, plan_run
from autograder.gradebook.results import SubmissionResult
from autograder.gradebook.store import DB_NAME, Gradebook
from autograder.grading.catalog import Assignment
from autograder.intake.submission import Submission
from autograder.sandbox.launch import Limits

LIMITS = Limits(cell_seconds=5, call_seconds=2, submission_seconds=20, startup_seconds=15)
WRONG = "def perceptron(x1, x2, w):\n    return 0\n"
RIGHT = ("def perceptron(x1, x2, w):\n"
         "    return 1 if w[0] + w[1] * x1 + w[2] * x2 >= 0 else 0\n")


def write_notebook(path: Path, source: str) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("import numpy as np"),
                      nbformat.v4.new_code_cell(source)]
    nbformat.write(notebook, path)


def submissions(folder: Path, valid: int, invalid: int) -> Path:
    folder.mkdir()
    for i in range(valid):
        write_notebook(folder / f"v{i}.ipynb", WRONG)
    for i in range(invalid):
        (folder / f"x{i}.ipynb").write_text("{ not a notebook")
    return folder


def grade(source: Path, out: Path, **options) -> tuple[list[str], object]:
    graded: list[str] = []
    outcome = grade_all("hw1", source, out, jobs=2, limits=LIMITS, argv=["test"],
                        on_result=lambda r: graded.append(r.student_id), **options)
    return sorted(graded), outcome


def stored_rows(out: Path) -> list[tuple[str, int]]:
    with Gradebook.open(out / DB_NAME) as book:
        return book.connection.execute(
            "SELECT student_id, run_id FROM results ORDER BY id").fetchall()


def gradebook_ids(out: Path) -> list[str]:
    with (out / "gradebook.csv").open(newline="") as handle:
        return [row["student_id"] for row in csv.DictReader(handle)]


def test_an_interrupted_batch_resumes_without_losing_or_duplicating(tmp_path):
    source, out = submissions(tmp_path / "subs", valid=3, invalid=3), tmp_path / "out"
    students = sorted(p.stem for p in source.iterdir())
    seen: list[str] = []

    def interrupt_after_two(result: SubmissionResult) -> None:
        seen.append(result.student_id)
        if len(seen) == 2:
            raise KeyboardInterrupt

    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        grade_all("hw1", source, out, jobs=2, limits=LIMITS, on_result=interrupt_after_two)
    # stopped promptly, not after the whole batch (generous: a loaded CI machine is slow)
    assert time.monotonic() - started < 120
    assert sorted(s for s, _ in stored_rows(out)) == sorted(seen)
    with Gradebook.open(out / DB_NAME) as book:
        (first_run,) = book.runs("hw1")
    assert first_run.status == "interrupted"

    graded, outcome = grade(source, out)
    assert graded == sorted(set(students) - set(seen))  # exactly N - k graded
    assert sorted(outcome.reused) == sorted(seen) and outcome.seed == first_run.seed
    rows = stored_rows(out)
    assert sorted(s for s, _ in rows) == students  # one grading each: none lost, none twice
    assert gradebook_ids(out) == students
    with Gradebook.open(out / DB_NAME) as book:
        assert sorted(book.latest("hw1")) == students
        assert book.runs("hw1")[-1].resumes == first_run.id

    (out / "gradebook.csv").unlink()
    (out / students[0] / "results.json").unlink()
    graded, outcome = grade(source, out)  # nothing changed: nothing graded, exports rewritten
    assert graded == [] and sorted(outcome.reused) == students
    assert gradebook_ids(out) == students and (out / students[0] / "results.json").is_file()
    assert len(stored_rows(out)) == len(students)


def test_exactly_what_changed_is_regraded(tmp_path, monkeypatch, capsys):
    source, out = submissions(tmp_path / "subs", valid=2, invalid=1), tmp_path / "out"
    everyone = ["v0", "v1", "x0"]
    assert grade(source, out, seed=5)[0] == everyone

    write_notebook(source / "v1.ipynb", RIGHT)  # one submission changed
    graded, outcome = grade(source, out)
    assert graded == ["v1"] and outcome.seed == 5

    monkeypatch.setattr(Assignment, "version", property(lambda self: "grader-v2"))
    graded, outcome = grade(source, out)  # a grader changed
    assert graded == everyone
    assert {r.grader_version for r in outcome.results} == {"grader-v2"}

    assert grade(source, out, seed=5)[0] == []  # the stored seed, given explicitly
    assert grade(source, out, seed=6)[0] == everyone  # another seed
    assert grade(source, out)[0] == []  # ... which is now the stored one
    assert grade(source, out, force=True)[0] == everyone

    capsys.readouterr()
    assert cli.main(["history", "hw1", "v1", "--out", str(out)]) == 0
    history = capsys.readouterr().out
    assert "5 grading(s)" in history and "#1  run 1 (finished)" in history
    assert "submission changed" in history and "grader changed" in history
    assert "seed changed (5 -> 6)" in history
    assert "flipped perceptron:" in history and "failed -> passed" in history


def test_plan_regrades_errors_and_keeps_the_stored_seed(tmp_path):
    """Rules without grading: an ``error`` result is retried; the seed comes from the last run."""
    notebook = tmp_path / "s1.ipynb"
    write_notebook(notebook, WRONG)
    submission = Submission("s1", notebook)
    with Gradebook.open(tmp_path / DB_NAME) as book:
        fresh = plan_run(book, "hw1", "v1", [submission], seed=None)
        assert len(fresh.to_grade) == 1 and fresh.resumes is None
        run = book.start_run("hw1", fresh.seed, "v1", "none", [])
        sha = fresh.to_grade[0][1]
        book.add_result(run, SubmissionResult("s1", "error", 1.0, {"q": 1.0}, seed=fresh.seed,
                                              grader_version="v1"), sha)
        retry = plan_run(book, "hw1", "v1", [submission], seed=None)
        assert retry.seed == fresh.seed and len(retry.to_grade) == 1 and retry.resumes == run
        book.add_result(run, SubmissionResult("s1", "graded", 1.0, {"q": 1.0}, seed=fresh.seed,
                                              grader_version="v1"), sha)
        assert len(plan_run(book, "hw1", "v1", [submission], seed=None).reused) == 1
        assert len(plan_run(book, "hw1", "v1", [submission], None, force=True).to_grade) == 1


def test_a_dying_grading_process_costs_a_retry_not_a_grade(tmp_path):
    """Submissions pending when a grading process dies are graded again in a new pool;
    one that kills every process it runs in ends as an `error` record after POOL_TRIES."""
    import pool_helpers

    from autograder.batch import run
    from autograder.grading.catalog import Assignment
    from autograder.intake.submission import Submission
    from autograder.sandbox.launch import Limits

    hw1 = Assignment.find("hw1")
    work = []
    for sid in ("s1", "s2"):
        path = tmp_path / f"{sid}.ipynb"
        path.write_text("{}")
        work.append((Submission(sid, path), "sha"))
    recorded: dict[str, str] = {}

    def record(result, sha256):
        recorded[result.student_id] = result.status

    run._run_pool(hw1, work, 1, Limits(), 1, hw1.version, record, grade=pool_helpers.die_once)
    assert recorded == {"s1": "graded", "s2": "graded"}

    recorded.clear()
    run._run_pool(hw1, work[:1], 1, Limits(), 1, hw1.version, record,
                    grade=pool_helpers.always_die)
    assert recorded == {"s1": "error"}


def test_an_unchanged_run_writes_no_student_file_again(tmp_path, monkeypatch):
    """Exports are incremental: a student's files are written again only when their latest
    result, an export choice or the files themselves changed."""
    from autograder.batch import run

    source, out = submissions(tmp_path / "subs", valid=1, invalid=1), tmp_path / "out"
    grade(source, out)
    written: list[str] = []
    real = run.export_student

    def counted(result, *args, **kwargs):
        written.append(result.student_id)
        return real(result, *args, **kwargs)

    monkeypatch.setattr(run, "export_student", counted)
    grade(source, out)
    assert written == []
    grade(source, out, show_test_names=False)  # an export choice: everyone's files again
    assert sorted(written) == ["v0", "x0"]
    written.clear()
    (out / "x0" / "feedback.md").unlink()  # a file gone: that student's files again
    grade(source, out, show_test_names=False)
    assert written == ["x0"] and (out / "x0" / "feedback.md").is_file()
