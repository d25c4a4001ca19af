"""The report's figures, drawn with matplotlib (Agg) into SVG files beside index.html.

``start`` draws them in forked processes, one per figure as far as the CPUs go,
while the caller goes on (the report compares the class's code meanwhile): on
2 cores the three figures cost about half of drawing them one after the other.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from .data import ReportData

STYLE = {"svg.hashsalt": "autograder-report", "svg.fonttype": "path", "font.size": 9}


def _save(figure: Figure, path: Path, *, tight: bool = True) -> str:
    """``tight``: crop to what is drawn (one more layout pass; needless after tight_layout)."""
    figure.savefig(path, format="svg", metadata={"Date": None},
                   bbox_inches="tight" if tight else None)
    plt.close(figure)
    return path.name


def draw(data: ReportData, folder: Path) -> dict[str, str]:
    """Write the figures into ``folder``, one after the other; return {figure: file name}."""
    return _draw(data, folder, list(_wanted(data)))


def start(data: ReportData, folder: Path) -> Callable[[], dict[str, str]]:
    """Start writing the figures into ``folder``; return the function that waits for them
    and returns {figure: file name}.

    Each group of figures is drawn in a forked child (``_groups``: the heaviest figures
    apart, as many groups as CPUs). Forking is safe only with this process's one
    thread and on Linux; otherwise, or with one CPU, the figures are drawn here, now.
    A child that fails costs nothing but time: its figures are drawn again here.
    """
    folder.mkdir(parents=True, exist_ok=True)
    wanted = list(_wanted(data))
    groups = _groups(wanted, len(os.sched_getaffinity(0)) if sys.platform == "linux" else 1)
    if len(groups) < 2 or threading.active_count() > 1:
        files = _draw(data, folder, wanted)
        return lambda: files
    context = multiprocessing.get_context("fork")
    children: list[tuple[BaseProcess | None, list[str]]] = []
    for group in groups:
        process = context.Process(target=_draw, args=(data, folder, group), daemon=True)
        started: BaseProcess | None = process
        try:  # (Python 3.12+ may warn about forking with threads; a warning-as-error too)
            process.start()
        except Exception:  # noqa: BLE001 - then these are drawn here, in ``wait``
            started = None
        children.append((started, group))

    def wait() -> dict[str, str]:
        for child, group in children:
            if child is not None:
                child.join()
            if child is None or child.exitcode != 0 or not all(
                    (folder / FILES[name]).is_file() for name in group):
                _draw(data, folder, group)
        return {name: FILES[name] for name in wanted}

    return wait


FILES = {"overall": "scores.svg", "questions": "questions.svg", "tests": "tests.svg"}
WEIGHTS = {"questions": 5, "tests": 3, "overall": 1}  # relative cost, measured on HW1


def _wanted(data: ReportData) -> list[str]:
    return ["overall", *(["questions"] if data.questions else []),
            *(["tests"] if data.items else [])]


def _groups(wanted: list[str], cpus: int) -> list[list[str]]:
    """``wanted`` in at most ``cpus`` groups of about equal cost (heaviest first)."""
    groups: list[list[str]] = [[] for _ in range(max(1, min(cpus, len(wanted))))]
    for name in sorted(wanted, key=lambda n: -WEIGHTS[n]):
        min(groups, key=lambda g: sum(WEIGHTS[n] for n in g)).append(name)
    return [group for group in groups if group]


def _draw(data: ReportData, folder: Path, names: list[str]) -> dict[str, str]:
    """Write the figures ``names`` into ``folder``; return {figure: file name}."""
    folder.mkdir(parents=True, exist_ok=True)
    drawers = {"overall": _overall, "questions": _questions, "tests": _items}
    with plt.rc_context(STYLE):  # type: ignore[arg-type]  # rcParams keys, checked at run time
        return {name: drawers[name](data, folder / FILES[name]) for name in names}


def _overall(data: ReportData, path: Path) -> str:
    max_score = max(data.questions.values(), default=0) and sum(data.questions.values())
    scores = [r.score for r in data.rows if r.status != "missing"]
    figure, axes = plt.subplots(figsize=(6.4, 2.8))
    bins = min(20, max(int(max_score), 1)) if max_score else 10
    axes.hist(scores, bins=bins, range=(0, max_score or 1), color="#3b6ea8", edgecolor="white")
    axes.set_xlabel(f"score (of {max_score:g})")
    axes.set_ylabel("students")
    axes.set_title(f"Score distribution ({len(scores)} submissions)")
    axes.yaxis.get_major_locator().set_params(integer=True)  # type: ignore[call-arg]  # MaxNLocator
    return _save(figure, path)


def _questions(data: ReportData, path: Path) -> str:
    questions = list(data.questions)
    columns = min(4, len(questions))
    rows = math.ceil(len(questions) / columns)
    figure, grid = plt.subplots(rows, columns, figsize=(2.4 * columns, 1.9 * rows),
                                squeeze=False)
    scored = [r for r in data.rows if r.status != "missing"]
    for axes, question in zip(grid.flat, questions, strict=False):
        points = data.questions[question]
        earned = [r.questions.get(question, 0.0) for r in scored]
        axes.hist(earned, bins=min(10, max(int(points), 1)), range=(0, points or 1),
                  color="#5a9a68", edgecolor="white")
        axes.set_title(f"{question} (of {points:g})".replace("$", r"\$"), fontsize=8)
        axes.yaxis.get_major_locator().set_params(integer=True)
    for axes in list(grid.flat)[len(questions):]:
        axes.set_visible(False)
    figure.suptitle("Points per question")
    figure.tight_layout()
    return _save(figure, path, tight=False)


def _items(data: ReportData, path: Path) -> str:
    items = sorted(data.items, key=lambda i: (list(data.questions).index(i.question)
                                              if i.question in data.questions else 0, i.name))
    figure, axes = plt.subplots(figsize=(6.4, 0.22 * len(items) + 0.9))
    labels = [f"{i.question}: {i.name[:48]}".replace("$", r"\$") for i in items]
    rates = [100 * i.rate for i in items]
    colours = ["#a4141b" if r < 50 else "#e0a100" if r < 80 else "#176b2c" for r in rates]
    axes.barh(range(len(items)), rates, color=colours)
    axes.set_yticks(range(len(items)), labels, fontsize=6)
    axes.invert_yaxis()
    axes.set_xlim(0, 100)
    axes.set_xlabel("% of submissions that ran the test and passed it")
    axes.set_title("Pass rate per hidden test")
    return _save(figure, path)
