"""histogram.png: the cutoff labels never overlap, however close the cutoffs are."""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from itertools import combinations

import pytest

from course.histogram import draw_histogram
from course.policy import LetterScale, Policy

CLOSE = (("A+", 97), ("A0", 95), ("A-", 93), ("B+", 91), ("B0", 89), ("B-", 87),
         ("C+", 85), ("C0", 80), ("D0", 60))


@pytest.mark.parametrize("cutoffs", [None, CLOSE], ids=["cose474", "two-points-apart"])
def test_cutoff_labels_do_not_overlap(cose474: Policy, cutoffs) -> None:
    policy = cose474 if cutoffs is None else dataclasses.replace(
        cose474, letters=LetterScale(cutoffs=tuple((k, Fraction(v)) for k, v in cutoffs)))
    figure = draw_histogram(policy, [])
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    totals = figure.axes[0]
    labels = [t for t in totals.texts if t.get_text() in dict(policy.letters.cutoffs)]
    assert len(labels) == len(policy.letters.cutoffs)
    boxes = [t.get_window_extent(renderer) for t in labels]
    for (a, first), (b, second) in combinations(zip(labels, boxes, strict=True), 2):
        assert not first.overlaps(second), (a.get_text(), b.get_text())
    lines = [totals.transData.transform((float(bound), 0))[0]
             for _, bound in policy.letters.cutoffs]
    for label, box in zip(labels, boxes, strict=True):
        crossing = [x for x in lines if box.x0 + 1 < x < box.x1 - 1]
        if cutoffs is None:  # 5 points apart: no dashed line runs through a letter
            assert not crossing, label.get_text()
        else:  # closer: a line that must cross a letter passes behind its white patch
            patch = label.get_bbox_patch()
            assert patch is not None and patch.get_facecolor()[:3] == (1.0, 1.0, 1.0)
            assert label.get_zorder() > max(line.get_zorder() for line in totals.lines)
    frame = totals.get_window_extent(renderer)
    assert all(frame.y0 <= box.y0 and box.y1 <= frame.y1 for box in boxes)
