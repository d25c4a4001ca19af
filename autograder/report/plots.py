"""The report's figures, drawn with matplotlib (Agg) into SVG files beside index.html."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from .data import ReportData

STYLE = {"svg.hashsalt": "autograder-report", "svg.fonttype": "path", "font.size": 9}


def _save(figure: Figure, path: Path) -> str:
    figure.savefig(path, format="svg", metadata={"Date": None}, bbox_inches="tight")
    plt.close(figure)
    return path.name


def draw(data: ReportData, folder: Path) -> dict[str, str]:
    """Write the figures into ``folder``; return {figure: file name}."""
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}
    with plt.rc_context(STYLE):  # type: ignore[arg-type]  # rcParams keys, checked at run time
        files["overall"] = _overall(data, folder / "scores.svg")
        if data.questions:
            files["questions"] = _questions(data, folder / "questions.svg")
        if data.items:
            files["tests"] = _items(data, folder / "tests.svg")
    return files


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
    return _save(figure, path)


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
