"""histogram.png: the distribution of totals (with the cutoffs) and of letters.

Uses matplotlib's object API with the Agg canvas: no pyplot, no global state,
no display needed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from course.policy import Policy
from course.scoring import StudentGrade


def write_histogram(policy: Policy, grades: Sequence[StudentGrade], path: Path) -> None:
    """Draw totals (5-point bins, cutoffs dashed) beside the count of each letter."""
    figure = Figure(figsize=(10, 4), layout="constrained")
    FigureCanvasAgg(figure)
    totals_axes, letters_axes = figure.subplots(1, 2)
    totals = [float(grade.rounded_total) for grade in grades]  # as the letters see them
    totals_axes.hist(totals, bins=range(0, 105, 5), color="tab:blue", edgecolor="white")
    for letter, bound in policy.letters.cutoffs:
        totals_axes.axvline(float(bound), color="grey", linestyle="--", linewidth=0.8)
        totals_axes.text(
            float(bound),
            0.98,
            letter,
            transform=totals_axes.get_xaxis_transform(),
            ha="left",
            va="top",
            fontsize=8,
            color="grey",
        )
    totals_axes.set(xlim=(0, 100), xlabel="total (of 100)", ylabel="students", title="Totals")
    counts = Counter(grade.letter for grade in grades)
    letters = policy.letters.letters
    letters_axes.bar(letters, [counts[letter] for letter in letters], color="tab:green")
    letters_axes.set(xlabel="letter", ylabel="students", title="Letters")
    letters_axes.yaxis.get_major_locator().set_params(integer=True)
    totals_axes.yaxis.get_major_locator().set_params(integer=True)
    figure.suptitle(f"{policy.name or 'Final grades'}: {len(grades)} students")
    figure.savefig(path, dpi=100)
