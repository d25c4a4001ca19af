"""The report's figures drawn in forked processes are the very bytes drawn one after the
other; a child that fails is made up for by the parent; the work is split by cost."""

from __future__ import annotations

import os

import pytest
from report_site import QUESTIONS, result
from report_site import tests_for as outcomes

from autograder.report import data as report_data
from autograder.report import plots


@pytest.fixture
def data() -> report_data.ReportData:
    results = [result("a", "graded", outcomes(True)), result("b", "graded", outcomes(False)),
               result("c", "timeout", outcomes(False, "not run")),
               result("d", "missing", message="no notebook found")]
    return report_data.build("hw1", QUESTIONS, results, [])


def files_of(folder):
    return {path.name: path.read_bytes() for path in sorted(folder.glob("*.svg"))}


def test_forked_drawing_writes_what_drawing_here_writes(tmp_path, data, monkeypatch):
    here = plots.draw(data, tmp_path / "here")
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2})  # a group per figure
    monkeypatch.setattr(plots.threading, "active_count", lambda: 1)  # an earlier test's are idle
    real, log = plots._draw, tmp_path / "drawn-by"

    def noted(*args):
        with log.open("a") as out:
            out.write(f"{os.getpid()} {args[2]}\n")
        return real(*args)

    monkeypatch.setattr(plots, "_draw", noted)
    forked = plots.start(data, tmp_path / "forked")()
    drawn = [line.split(" ", 1) for line in log.read_text().splitlines()]
    assert len(drawn) == 3 and len({pid for pid, _ in drawn}) == 3
    assert str(os.getpid()) not in {pid for pid, _ in drawn}  # all in children
    assert forked == here == {"overall": "scores.svg", "questions": "questions.svg",
                              "tests": "tests.svg"}
    assert files_of(tmp_path / "forked") == files_of(tmp_path / "here")
    assert len(files_of(tmp_path / "here")) == 3


def test_a_failing_child_is_made_up_for_here(tmp_path, data, monkeypatch):
    parent = os.getpid()
    real = plots._questions

    def fails_in_a_child(*args):
        if os.getpid() != parent:
            raise RuntimeError("a child died")
        return real(*args)

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(plots.threading, "active_count", lambda: 1)
    monkeypatch.setattr(plots, "_questions", fails_in_a_child)
    (tmp_path / "forked").mkdir()
    (tmp_path / "forked" / "questions.svg").write_text("stale: drawn from other scores")
    files = plots.start(data, tmp_path / "forked")()
    plots.draw(data, tmp_path / "here")
    assert set(files.values()) == set(files_of(tmp_path / "forked"))
    assert files_of(tmp_path / "forked") == files_of(tmp_path / "here")


def test_with_one_cpu_or_another_thread_nothing_is_forked(tmp_path, data, monkeypatch):
    def no_fork(*args, **kwargs):
        raise AssertionError("forked")

    monkeypatch.setattr(plots.multiprocessing, "get_context", no_fork)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    assert len(plots.start(data, tmp_path / "one")()) == 3
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(plots.threading, "active_count", lambda: 2)
    assert len(plots.start(data, tmp_path / "threads")()) == 3


@pytest.mark.parametrize(("cpus", "groups"), [
    (1, [["questions", "tests", "overall"]]),
    (2, [["questions"], ["tests", "overall"]]),
    (3, [["questions"], ["tests"], ["overall"]]),
    (8, [["questions"], ["tests"], ["overall"]]),
])
def test_the_figures_are_split_by_cost_over_the_cpus(cpus, groups):
    assert plots._groups(["overall", "questions", "tests"], cpus) == groups


def test_a_fork_refused_is_drawn_here(tmp_path, data, monkeypatch):
    """Python 3.12+ warns about forking a process with threads (an error under
    ``-W error``): those figures are drawn in the process instead."""
    real = plots.multiprocessing.get_context

    class Refusing:
        def Process(self, *args, **kwargs):  # multiprocessing's name
            process = real("fork").Process(*args, **kwargs)

            def start():
                raise DeprecationWarning("this process is multi-threaded, use of fork()...")

            process.start = start
            return process

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(plots.threading, "active_count", lambda: 1)
    monkeypatch.setattr(plots.multiprocessing, "get_context", lambda method: Refusing())
    files = plots.start(data, tmp_path / "refused")()
    plots.draw(data, tmp_path / "here")
    assert len(files) == 3
    assert files_of(tmp_path / "refused") == files_of(tmp_path / "here")
