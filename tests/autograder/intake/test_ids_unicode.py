"""Ids are NFC before clashes are resolved (issue 22 item 6), and the same behind intake.

``홍길동.ipynb`` saved on Windows (NFC) and on macOS (NFD: decomposed jamo) look
alike and are one folder on a normalising file system; they were two ids.
Variations: case, full-width letters, a Blackboard receipt's username in NFD.
"""

from __future__ import annotations

import unicodedata

import pytest

from autograder.gradebook.safe_ids import safe_ids
from autograder.intake.find import find_submissions
from autograder.intake.submission import Submission

NB = '{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []}'
NFC = unicodedata.normalize("NFC", "홍길동")
NFD = unicodedata.normalize("NFD", "홍길동")
assert NFC != NFD


def nfc_unique(ids: list[str]) -> bool:
    folded = [unicodedata.normalize("NFKC", i).casefold() for i in ids]
    return all(unicodedata.is_normalized("NFC", i) for i in ids) and len(set(folded)) == len(ids)


@pytest.mark.parametrize("names", [(NFC, NFD), (NFD, NFC), ("kim", "ｋｉｍ"), ("Kim", "kim"),
                                   ("e\u0301", "\u00e9")],
                         ids=["nfc-nfd", "nfd-nfc", "fullwidth", "case", "latin-accent"])
def test_names_equal_after_normalisation_get_two_distinct_rows(tmp_path, names):
    src = tmp_path / "in"
    src.mkdir()
    for name in names:
        (src / f"{name}.ipynb").write_text(NB)
    found = find_submissions(src, tmp_path / "work")
    ids = [s.student_id for s in found]
    assert len(ids) == 2 and nfc_unique(ids), ids
    if NFC in names:
        assert NFC in ids  # the NFC name keeps its id; the NFD one is told why it moved
        other = next(s for s in found if s.student_id != NFC)
        assert "NFC" in " ".join(other.notes)


def test_blackboard_usernames_in_nfd_are_normalised(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    for user, stamp in ((NFC, "2026-09-20-10-00-00"), (NFD, "2026-09-21-10-00-00")):
        prefix = f"HW1_{user}_attempt_{stamp}"
        (src / f"{prefix}.txt").write_text(f"Name: Hong ({user})\n")
        (src / f"{prefix}_hw1.ipynb").write_text(NB)
    ids = [s.student_id for s in find_submissions(src, tmp_path / "work")]
    assert len(ids) == 2 and nfc_unique(ids), ids


def test_safe_ids_normalises_too():
    fixed = safe_ids([Submission(NFC, None), Submission(NFD, None), Submission("ｋｉｍ", None),
                      Submission("KIM", None)])
    ids = [s.student_id for s in fixed]
    assert nfc_unique(ids), ids
