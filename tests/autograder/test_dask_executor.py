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
import time
from pathlib import Path

import nbformat
import pytest
from distributed import Client, LocalCluster
from test_attacks import _descendants, _processes

from autograder import cli
from autograder.batch.dask_executor import GraderVersionMismatch, Payload, grade_payload
from autograder.batch.run import grade_all
from autograder.gradebook.store import DB_NAME, Gradebook
from autograder.grading.catalog import Assignment
from autograder.intake.submission import Submission
from autograder.sandbox.launch import Limits

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "solutions" / "hw1" / "examples"
LIMITS = Limits(cell_seconds=5, call_seconds=2, submission_seconds=30, startup_seconds=20)
RIGHT = ("def perceptron(x1, x2, w):\n"
         "    return 1 if w[0] + w[1] * x1 + w[2] * x2 >= 0 else 0\n")
WRONG = "def perceptron(x1, x2, w):\n    return 0\n"
NOTEBOOK_SECONDS = 2


def summary(results) -> dict[str, tuple]:
    return {r.student_id: (r.status, r.score, r.message, r.source,
                           tuple((t.name, t.passed, t.feedback) for t in r.tests), r.cells)
            for r in results}


@pytest.mark.slow  # a whole batch twice, on a local cluster and in the pool
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


@pytest.mark.slow  # a local cluster, a worker killed, a batch retried
def test_a_worker_killed_mid_run_costs_a_retry_not_a_result(tmp_path: Path) -> None:
    """SIGKILL a Dask worker while a notebook of its submission runs in its sandbox: the
    scheduler counts the lost task and runs it again, every submission gets one complete
    record, and the killed worker's sandbox dies with it (bubblewrap's --die-with-parent)."""
    subs = tmp_path / "subs"
    subs.mkdir()
    for i in range(10):  # the sleep: a wide window in which each grading is surely under way
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(f"import time\ntime.sleep({NOTEBOOK_SECONDS})"),
                    nbformat.v4.new_code_cell(RIGHT if i % 2 else WRONG)]
        nbformat.write(nb, subs / f"s{i:02d}.ipynb")
    killed: list[list[int]] = []  # the victim's sandbox processes when it was killed
    survivors: list[int] = []
    lost: list[int] = []  # tasks the scheduler saw die with a worker, after the kill
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        lock = threading.Lock()

        def kill_a_grading_worker(result) -> None:
            with lock:
                if killed:
                    lost.append(client.run_on_scheduler(_suspicious_tasks))
                    return
                pids = client.run(os.getpid)
                deadline = time.monotonic() + 60
                while not killed and time.monotonic() < deadline:
                    for pid in pids.values():
                        running = notebook_processes(pid)
                        if len(running) >= 2:  # the zygote and a notebook's worker: grading
                            os.kill(pid, signal.SIGKILL)
                            killed.append(running)
                            break
                    else:
                        time.sleep(0.05)
                if killed:
                    survivors.extend(_wait_gone(killed[0], 30))

        outcome = grade_all("hw1", subs, tmp_path / "out", seed=9, limits=LIMITS, argv=["test"],
                            cluster=cluster.scheduler_address, on_result=kill_a_grading_worker)
    assert killed, "no worker was seen grading after the first result came in"
    assert survivors == [], "the killed worker's sandbox outlived it"
    assert lost and max(lost) >= 1, "the scheduler never saw a task die with the worker"
    assert sorted(r.student_id for r in outcome.results) == [f"s{i:02d}" for i in range(10)]
    assert {r.status for r in outcome.results} == {"graded"}, \
        [(r.student_id, r.message) for r in outcome.results if r.status != "graded"]
    tests = {r.student_id: [t.name for t in r.tests] for r in outcome.results}
    assert all(names == tests["s00"] and names for names in tests.values())  # complete records
    assert all(not r.cells and r.seed == 9 for r in outcome.results)
    scores = {r.student_id: r.score for r in outcome.results}
    assert {scores[f"s{i:02d}"] for i in range(1, 10, 2)} == {scores["s01"]}  # same notebook
    assert {scores[f"s{i:02d}"] for i in range(0, 10, 2)} == {scores["s00"]}
    assert scores["s01"] > scores["s00"]
    with Gradebook.open(tmp_path / "out" / DB_NAME) as book:
        rows = book.connection.execute("SELECT student_id FROM results").fetchall()
    assert sorted(s for (s,) in rows) == [f"s{i:02d}" for i in range(10)]  # none twice


def notebook_processes(pid: int) -> list[int]:
    """Host pids of the sandbox's Python processes under ``pid``: its zygote and, while a
    submission is graded, that notebook's worker (forked from the zygote, same argv)."""
    return [p["pid"] for p in _descendants(_processes(), pid)
            if p["name"] != "bwrap" and any(a.endswith("/worker.py") for a in p["argv"])]


def _wait_gone(pids: list[int], seconds: float) -> list[int]:
    """The ``pids`` still alive (not zombies) after waiting up to ``seconds`` for them to die."""
    deadline = time.monotonic() + seconds
    while True:
        alive = [p["pid"] for p in _processes() if p["pid"] in pids]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


def _suspicious_tasks(dask_scheduler) -> int:
    """On the scheduler: how many times a task was lost with a worker that died running it."""
    return sum(task.suspicious for task in dask_scheduler.tasks.values())


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



def _stream_levels() -> list[int]:
    """The levels of the stream handlers that print the ``distributed`` logs."""
    import logging

    return [handler.level for handler in logging.getLogger("distributed").handlers
            if isinstance(handler, logging.StreamHandler)]


def test_the_local_cluster_prints_nothing_below_critical() -> None:
    """Its workers keep quiet: a worker's heartbeat racing the cluster's close can log
    an ERROR traceback after a successful run (seen once in two 1,000-notebook runs);
    failures come back through the futures instead (see ``_result_of``)."""
    import logging

    from autograder.batch.dask_executor import _client

    with _client("local:1") as client:
        (worker_levels,) = client.run(_stream_levels).values()
        assert worker_levels and set(worker_levels) == {logging.CRITICAL}
