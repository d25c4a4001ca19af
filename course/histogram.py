"""histogram.png: the distribution of totals (with the cutoffs) and of letters.

Uses matplotlib's object API with the Agg canvas: no pyplot, no global state,
no display needed. Cutoff labels that would overlap (close cutoffs) stack in rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

from course.policy import Policy
from course.scoring import StudentGrade

LABEL_STEP = 0.075  # axes fraction between two rows of cutoff labels
LABEL_PAD = 3  # pixels kept free around a label


def write_histogram(policy: Policy, grades: Sequence[StudentGrade], path: Path) -> None:
    """Draw totals (5-point bins, cutoffs dashed) beside the count of each letter."""
    draw_histogram(policy, grades).savefig(path, dpi=100)


def draw_histogram(policy: Policy, grades: Sequence[StudentGrade]) -> Figure:
    figure = Figure(figsize=(10, 4), layout="constrained")
    FigureCanvasAgg(figure)
    totals_axes, letters_axes = figure.subplots(1, 2)
    totals = [float(grade.rounded_total) for grade in grades]  # as the letters see them
    totals_axes.hist(totals, bins=range(0, 105, 5), color="tab:blue", edgecolor="white")
    totals_axes.set(xlim=(0, 100), xlabel="total (of 100)", ylabel="students", title="Totals")
    counts = Counter(grade.letter for grade in grades)
    letters = policy.letters.letters
    letters_axes.bar(letters, [counts[letter] for letter in letters], color="tab:green")
    letters_axes.set(xlabel="letter", ylabel="students", title="Letters")
    letters_axes.yaxis.get_major_locator().set_params(integer=True)
    totals_axes.yaxis.get_major_locator().set_params(integer=True)
    figure.suptitle(f"{policy.name or 'Final grades'}: {len(grades)} students")
    figure.canvas.draw()  # settle the layout: labels are placed in its pixels
    _cutoff_labels(figure, totals_axes, policy)
    return figure


def _cutoff_labels(figure: Figure, axes: Axes, policy: Policy) -> None:
    """A dashed line per cutoff, its letter beside it; a label that would touch one already
    placed goes one row lower (close cutoffs stack instead of overlapping)."""
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    placed: list[Bbox] = []
    for letter, bound in policy.letters.cutoffs:
        axes.axvline(float(bound), color="grey", linestyle="--", linewidth=0.8)
        label = axes.text(float(bound), 0.98, letter, transform=axes.get_xaxis_transform(),
                          ha="left", va="top", fontsize=8, color="grey",
                          backgroundcolor="white")
        label.set_bbox({"facecolor": "white", "edgecolor": "none", "pad": 0.5})
        for row in range(len(policy.letters.cutoffs)):
            label.set_y(0.98 - row * LABEL_STEP)
            box = label.get_window_extent(renderer).padded(LABEL_PAD)
            if not any(box.overlaps(other) for other in placed):
                break
        placed.append(box)
