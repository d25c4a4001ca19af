"""Intake of Blackboard downloads written the way Blackboard writes them, and of odd names."""

from __future__ import annotations

import io
import os
import zipfile
from datetime import datetime, timedelta, timezone

import pytest

from autograder.intake.blackboard import parse_date, parse_receipt
from autograder.intake.find import find_submissions

NB = '{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []}'
KST = timezone(timedelta(hours=9))


def receipt(name, username, assignment, date, files=(), comments="", text=""):
    lines = [f"Name: {name} ({username})", f"Assignment: {assignment}",
             f"Date Submitted: {date}", "Current Grade: Needs Grading", "",
             "Submission Field:",
             text or "There is no student submission text data for this assignment.", "",
             "Comments:", comments or "There are no student comments for this assignment.", "",
             "Files:"]
    if files:
        for original, stored in files:
            lines += [f"\tOriginal filename: {original}", f"\tFilename: {stored}"]
    else:
        lines.append("No files were attached to this submission.")
    return "\n".join(lines) + "\n"


def attempt(src, assignment, username, stamp, date, files=None, *, comments="", name="A B",
            encoding="utf-8", newline="\n", receipt_file=True):
    """One Blackboard attempt: receipt plus attached files ({original: content})."""
    prefix = f"{assignment}_{username}_attempt_{stamp}"
    stored = []
    for original, content in (files or {}).items():
        target = src / f"{prefix}_{original}"
        target.write_bytes(content if isinstance(content, bytes) else content.encode())
        stored.append((original, target.name))
    if receipt_file:
        text = receipt(name, username, assignment, date, stored, comments).replace("\n", newline)
        (src / f"{prefix}.txt").write_bytes(text.encode(encoding))


def by_id(submissions):
    return {s.student_id: s for s in submissions}


def test_receipt_fields_are_kept():
    text = receipt("Kim Minjun", "kim_mj", "Homework 1",
                   "Thursday, December 12, 2024 1:22:26 PM EST",
                   [("hw1.ipynb", "Homework 1_kim_mj_attempt_2024-12-12-13-22-26_hw1.ipynb")],
                   comments="I worked with 2023101\nand asked for an extension")
    parsed = parse_receipt("\ufeff" + text.replace("\n", "\r\n"))
    assert (parsed.name, parsed.username, parsed.assignment) == ("Kim Minjun", "kim_mj",
                                                                 "Homework 1")
    assert parsed.submitted_at == datetime(2024, 12, 12, 13, 22, 26,
                                           tzinfo=timezone(timedelta(hours=-5)))
    assert parsed.comments == "I worked with 2023101\nand asked for an extension"
    assert parsed.text == "" and parsed.grade == "Needs Grading"
    assert parsed.files == (("hw1.ipynb", "Homework 1_kim_mj_attempt_2024-12-12-13-22-26_hw1.ipynb"),)


@pytest.mark.parametrize(("text", "expected"), [
    ("Tuesday, 21 April 2020 06:34:13 o'clock BST", datetime(2020, 4, 21, 6, 34, 13)),
    ("Thursday, December 12, 2024 1:22:26 PM EST", datetime(2024, 12, 12, 13, 22, 26)),
    ("Monday, September 21, 2026 11:59:59 PM", datetime(2026, 9, 21, 23, 59, 59)),
    ("Monday, 21 September 2026 23:59:59 o'clock XYZT", datetime(2026, 9, 21, 23, 59, 59)),
])
def test_dates_in_blackboards_locales(text, expected):
    parsed = parse_date(text, KST)
    assert parsed is not None and parsed.replace(tzinfo=None) == expected
    if "BST" in text:
        assert parsed.utcoffset() == timedelta(hours=1)
    elif "EST" not in text:
        assert parsed.utcoffset() == timedelta(hours=9)  # unknown or no zone: the server's


def test_comment_only_later_attempt_does_not_hide_the_notebook(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    attempt(src, "HW1", "2023001", "2026-09-30-20-00-00",
            "Wednesday, September 30, 2026 8:00:00 PM", {"hw1.ipynb": NB})
    attempt(src, "HW1", "2023001", "2026-10-01-09-00-00",
            "Thursday, October 1, 2026 9:00:00 AM", comments="I worked with 2023101")
    [sub] = find_submissions(src, tmp_path / "work", KST)
    assert sub.path is not None and sub.path.name.endswith("20-00-00_hw1.ipynb")
    assert sub.submitted_at == datetime(2026, 9, 30, 20, 0, tzinfo=KST)
    notes = " | ".join(sub.notes)
    assert "2026-10-01-09-00-00 not graded" in notes
    assert "comment with attempt 2026-10-01-09-00-00: I worked with 2023101" in notes
    assert sub.info["attempts"][1]["comments"] == "I worked with 2023101"


def test_bom_crlf_and_cp949_receipts_give_underscore_usernames(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    attempt(src, "HW1", "lee_sy_2", "2026-09-30-20-00-00", "Wednesday, September 30, 2026 "
            "8:00:00 PM", {"hw1.ipynb": NB}, encoding="utf-8-sig", newline="\r\n")
    attempt(src, "HW1", "park_j", "2026-09-30-21-00-00", "Wednesday, September 30, 2026 "
            "9:00:00 PM", {"hw1.ipynb": NB}, name="박지호", encoding="cp949")
    found = by_id(find_submissions(src, tmp_path / "work", KST))
    assert sorted(found) == ["lee_sy_2", "park_j"]
    assert found["park_j"].info["name"] == "박지호"


def test_zipped_notebooks_are_found(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    export = io.BytesIO()
    with zipfile.ZipFile(export, "w") as z:  # otter's grader.export(): notebook + extras
        z.writestr("hw1.ipynb", NB)
        z.writestr("hw1.pdf", b"%PDF")
    attempt(src, "HW1", "2023002", "2026-09-30-20-00-00",
            "Wednesday, September 30, 2026 8:00:00 PM", {"hw1_2026_09_30T20_00.zip":
                                                         export.getvalue()})
    folder = tmp_path / "folder.zip"
    with zipfile.ZipFile(folder, "w") as z:
        z.writestr("my_hw/__MACOSX/._hw1.ipynb", "junk")
        z.writestr("my_hw/hw1.ipynb", NB)
    (src / "2023003.zip").write_bytes(folder.read_bytes())
    found = by_id(find_submissions(src, tmp_path / "work", KST))
    assert found["2023002"].path.name == "hw1.ipynb" and not found["2023002"].problem
    assert found["2023003"].path.name == "hw1.ipynb" and not found["2023003"].problem
    assert found["2023003"].display_path == "2023003.zip:my_hw/hw1.ipynb"


def test_zip_without_notebook_or_unsafe_is_that_students_problem(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    with zipfile.ZipFile(src / "2023004.zip", "w") as z:
        z.writestr("notes.txt", "no notebook")
    with zipfile.ZipFile(src / "2023005.zip", "w") as z:
        z.writestr("../evil.ipynb", NB)
    found = by_id(find_submissions(src, tmp_path / "work"))
    assert "holds no .ipynb" in found["2023004"].problem
    assert "unsafe path" in found["2023005"].problem
    assert not (tmp_path / "evil.ipynb").exists()


def test_without_receipts_two_students_are_never_merged(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    for user in ("kim_hw", "lee_hw"):
        attempt(src, "HW1", user, "2026-09-30-20-00-00", "", {"hw1.ipynb": NB},
                receipt_file=False)
    found = by_id(find_submissions(src, tmp_path / "work"))
    assert sorted(found) == ["kim_hw", "lee_hw"]


def test_without_receipts_an_ambiguous_split_gets_its_own_row_and_a_warning(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    attempt(src, "HW1", "kim_hw", "2026-09-30-20-00-00", "", {"hw1.ipynb": NB},
            receipt_file=False)
    (src / "hw.ipynb").write_text(NB)
    found = find_submissions(src, tmp_path / "work")
    assert len(found) == 2 and len({s.student_id for s in found}) == 2
    guessed = next(s for s in found if s.path.name != "hw.ipynb")
    assert "ambiguous" in " ".join(guessed.notes)


@pytest.mark.parametrize(("name", "expected"), [
    ("Python Basics With Numpy v3.ipynb", "Python_Basics_With_Numpy_v3"),
    ("홍길동 과제 (1).ipynb", "홍길동_과제"),
    ("2023001 (1).ipynb", "2023001"),
    ("(..).ipynb", "unnamed"),
    ("_ta_logs.ipynb", "ta_logs"),
    ("report.ipynb", "report_"),
    ("gradebook.csv.ipynb", "gradebook.csv_"),
    ("kim\x1b[31mred.ipynb", "kimred"),
])
def test_names_become_readable_safe_ids_with_a_note(tmp_path, name, expected):
    src = tmp_path / "in"
    src.mkdir()
    (src / name).write_text(NB)
    [sub] = find_submissions(src, tmp_path / "work")
    assert sub.student_id == expected and not sub.problem
    assert "derived from the name" in sub.notes[0] and "\x1b" not in sub.notes[0]


@pytest.mark.parametrize("name", ["-2+3", "@A1", "2023001"])
def test_formula_like_ids_stay_ids(tmp_path, name):
    src = tmp_path / "in"
    src.mkdir()
    (src / f"{name}.ipynb").write_text(NB)
    [sub] = find_submissions(src, tmp_path / "work")
    assert sub.student_id == name and not sub.notes


def test_two_names_for_one_id_both_keep_a_row(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "kim~minjun.ipynb").write_text(NB)
    (src / "kim_minjun.ipynb").write_text(NB)
    found = by_id(find_submissions(src, tmp_path / "work"))
    assert sorted(found) == ["kim_minjun", "kim_minjun-2"]
    assert found["kim_minjun"].path.name == "kim_minjun.ipynb"
    assert "kim_minjun" in " ".join(found["kim_minjun-2"].notes)


def test_cp949_names_from_a_windows_zip_decode_readably(tmp_path):
    name = "홍길동.ipynb".encode("cp949")
    placeholder = b"a" * (len(name) - 6) + b".ipynb"
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr(placeholder.decode(), NB)
        z.writestr("2023001.ipynb", NB)
    archive.write_bytes(archive.read_bytes().replace(placeholder, name))  # no UTF-8 flag
    found = by_id(find_submissions(archive, tmp_path / "work"))
    assert sorted(found) == ["2023001", "홍길동"]


def test_undecodable_folder_names_never_crash(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    raw = os.path.join(os.fsencode(src), "박지호".encode("cp949") + b".ipynb")
    with open(raw, "w") as handle:
        handle.write(NB)
    with open(os.path.join(os.fsencode(src), b"\xff\xfe\xfa.ipynb"), "w") as handle:
        handle.write(NB)
    found = by_id(find_submissions(src, tmp_path / "work"))
    assert "박지호" in found
    assert all(s.student_id.isprintable() and not s.problem for s in found.values())


def test_a_folder_holding_only_the_downloads_folder_is_unwrapped(tmp_path):
    src = tmp_path / "in" / "gradebook_COSE474_HW1_2026-10-02-10-00-00"
    src.mkdir(parents=True)
    for user in ("2023001", "2023002"):
        attempt(src, "HW1", user, "2026-09-30-20-00-00", "Wednesday, September 30, 2026 "
                "8:00:00 PM", {"hw1.ipynb": NB})
    assert sorted(by_id(find_submissions(tmp_path / "in", tmp_path / "work"))) == \
        ["2023001", "2023002"]
