"""Grading on a Dask cluster (``--cluster``): same records as the local pool, streamed into the
TA's gradebook, resumable, and a worker killed mid-run costs a retry, not a result.

These run a real ``distributed.LocalCluster`` (2 worker processes, one thread each) on a few
notebooks; every submission is graded in a Dask worker process's own sandbox.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
from pathlib import Path

import nbformat
import pytest
from distributed import Client, LocalCluster

from autograder import cli
from autograder.batch import grade_all
from autograder.catalog import Assignment
from autograder.dask_executor import GraderVersionMismatch, Payload, grade_payload
from autograder.intake import Submission
from autograder.sandbox import Limits
from autograder.store import DB_NAME, Gradebook

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "solutions" / "hw1" / "examples"
LIMITS = Limits(cell_seconds=5, call_seconds=2, submission_seconds=30, startup_seconds=20)
RIGHT = ("def perceptron(x1, x2, w):\n"
         "    return 1 if w[0] + w[1] * x1 + w[2] * x2 >= 0 else 0\n")
WRONG = "def perceptron(x1, x2, w):\n    return 0\n"


def summary(results) -> dict[str, tuple]:
    return {r.student_id: (r.status, r.score, r.message, r.source,
                           tuple((t.name, t.passed, t.feedback) for t in r.tests), r.cells)
            for r in results}


def test_local_cluster_grades_the_examples_as_the_pool_does(tmp_path: Path) -> None:
    pool = grade_all("hw1", EXAMPLES, tmp_path / "pool", jobs=2, seed=5, limits=LIMITS,
                     argv=["test"])
    streamed: list[str] = []
    dask = grade_all("hw1", EXAMPLES, tmp_path / "dask", seed=5, limits=LIMITS, argv=["test"],
                     cluster="local:2", on_result=lambda r: streamed.append(r.student_id))
    assert summary(dask.results) == summary(pool.results)
    assert sorted(streamed) == sorted(dask.graded) == sorted(pool.graded)
    assert (tmp_path / "dask" / "gradebook.csv").read_text() == \
        (tmp_path / "pool" / "gradebook.csv").read_text()
    again = grade_all("hw1", EXAMPLES, tmp_path / "dask", limits=LIMITS, argv=["test"],
                      cluster="local:2")  # same seed (the stored one), nothing changed
    assert again.graded == () and sorted(again.reused) == sorted(dask.graded)
    assert summary(again.results) == summary(dask.results)


def test_a_worker_killed_mid_run_costs_a_retry_not_a_result(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    subs.mkdir()
    for i in range(10):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(RIGHT if i % 2 else WRONG)]
        nbformat.write(nb, subs / f"s{i:02d}.ipynb")
    killed: list[int] = []
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        lock = threading.Lock()

        def kill_a_busy_worker(result) -> None:
            with lock:
                if killed:
                    return
                pids = client.run(os.getpid)
                busy = [address for address, keys in client.processing().items() if keys]
                if busy:
                    killed.append(pids[busy[0]])
                    os.kill(pids[busy[0]], signal.SIGKILL)

        outcome = grade_all("hw1", subs, tmp_path / "out", seed=9, limits=LIMITS, argv=["test"],
                            cluster=cluster.scheduler_address, on_result=kill_a_busy_worker)
    assert killed, "no worker was busy when the first result came in"
    assert sorted(r.student_id for r in outcome.results) == [f"s{i:02d}" for i in range(10)]
    assert {r.status for r in outcome.results} == {"graded"}, \
        [(r.student_id, r.message) for r in outcome.results if r.status != "graded"]
    scores = {r.student_id: r.score for r in outcome.results}
    assert len({scores[f"s{i:02d}"] for i in range(1, 10, 2)}) == 1  # same notebook, same score
    assert scores["s01"] > scores["s00"]
    with Gradebook.open(tmp_path / "out" / DB_NAME) as book:
        rows = book.connection.execute("SELECT student_id FROM results").fetchall()
    assert sorted(s for (s,) in rows) == [f"s{i:02d}" for i in range(10)]  # none twice


def test_a_worker_with_another_grader_version_refuses(tmp_path: Path) -> None:
    notebook = tmp_path / "s1.ipynb"
    shutil.copy(EXAMPLES / "2023001.ipynb", notebook)
    payload = Payload.of(Submission("s1", notebook))
    assert payload.data == notebook.read_bytes()
    with pytest.raises(GraderVersionMismatch, match="grader version"):
        grade_payload("hw1", "0" * 16, payload, 1, LIMITS)
    assert Assignment.find("hw1").version != "0" * 16


@pytest.mark.parametrize("address", ["8786", "local:0", "http://x:1 y"])
def test_a_bad_cluster_address_is_a_usage_error(tmp_path: Path, address: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["grade", "hw1", str(EXAMPLES), "--out", str(tmp_path / "out"),
                     "--cluster", address, "--quiet", "--force"])
    assert code == 2
    assert "--cluster" in capsys.readouterr().out
    assert not (tmp_path / "out" / DB_NAME).exists()  # refused before any run was recorded
