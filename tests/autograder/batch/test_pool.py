"""The grading pool queues a few submissions per process, not the class, and does the
``Alongside`` work on each notebook in the grading process (a failure there costs nothing)."""

from __future__ import annotations

import concurrent.futures as cf

import pool_helpers

from autograder.batch import pool
from autograder.grading.catalog import Assignment
from autograder.intake.submission import Submission
from autograder.sandbox.launch import Limits


def work(tmp_path, names):
    out = []
    for name in names:
        path = tmp_path / f"{name}.ipynb"
        path.write_text("{}" + name)
        out.append((Submission(name, path), f"sha-{name}"))
    return out


def test_at_most_a_few_submissions_per_process_are_queued(tmp_path, monkeypatch):
    """30 submissions, 2 processes: never more than 2 * IN_FLIGHT submitted and not yet
    recorded (all 30 were queued up front before: memory grew with the class)."""
    hw1 = Assignment.find("hw1")
    outstanding, most, recorded = [0], [0], []
    real_submit = cf.ProcessPoolExecutor.submit

    def counted(self, *args, **kwargs):
        outstanding[0] += 1
        most[0] = max(most[0], outstanding[0])
        return real_submit(self, *args, **kwargs)

    def record(result, sha256):
        outstanding[0] -= 1
        recorded.append((result.student_id, sha256))

    monkeypatch.setattr(cf.ProcessPoolExecutor, "submit", counted)
    names = [f"s{i:02d}" for i in range(30)]
    pool.run_pool(hw1, work(tmp_path, names), 1, Limits(), 2, hw1.version, record,
                  grade=pool_helpers.fine)
    assert sorted(recorded) == [(name, f"sha-{name}") for name in names]
    assert most[0] <= 2 * pool.IN_FLIGHT


def test_alongside_values_reach_keep_and_a_failing_one_costs_only_its_value(tmp_path):
    hw1 = Assignment.find("hw1")
    recorded: dict[str, str] = {}
    sizes = pool_helpers.Sizes()
    names = ["a", "bad", "c"]
    pool.run_pool(hw1, work(tmp_path, names), 1, Limits(), 2, hw1.version,
                  lambda result, sha256: recorded.update({result.student_id: result.status}),
                  grade=pool_helpers.fine, alongside=sizes)
    assert recorded == dict.fromkeys(names, "graded")
    assert sizes.kept == {"sha-a": 3, "sha-c": 3}  # "{}a", "{}c"; "bad" raised: nothing kept


def test_submissions_not_started_when_a_process_died_go_to_the_next_pool(tmp_path):
    """One process, 12 submissions, the first kills its process once: those in flight cost a
    try, those never queued none; everyone is graded."""
    hw1 = Assignment.find("hw1")
    recorded: dict[str, str] = {}
    items = work(tmp_path, [f"s{i:02d}" for i in range(12)])
    for submission, _ in items[1:]:
        submission.path.with_suffix(".died").write_text("1")  # die_once: only s00 dies
    pool.run_pool(hw1, items, 1, Limits(), 1, hw1.version,
                  lambda result, sha256: recorded.update({result.student_id: result.status}),
                  grade=pool_helpers.die_once)
    assert recorded == {submission.student_id: "graded" for submission, _ in items}
