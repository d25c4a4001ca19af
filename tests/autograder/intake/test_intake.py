"""Intake: every naming scheme maps to one submission per student."""

from __future__ import annotations

import os
import zipfile

import pytest

from autograder.errors import SubmissionError
from autograder.intake.find import find_submissions

NB = '{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []}'


def make(root, *names, content=NB):
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return root


def by_id(submissions):
    return {s.student_id: s for s in submissions}


def test_plain_files_and_folders(tmp_path):
    src = make(tmp_path / "in", "2023001.ipynb", "2023002/homework.ipynb",
               "2023002/.ipynb_checkpoints/homework-checkpoint.ipynb", ".DS_Store")
    found = by_id(find_submissions(src, tmp_path / "work"))
    assert sorted(found) == ["2023001", "2023002"]
    assert found["2023002"].path.name == "homework.ipynb"
    assert all(not s.problem for s in found.values())


def test_blackboard_latest_attempt_is_graded_and_others_listed(tmp_path):
    stem = "HW1_Perceptrons_2023003_attempt_"
    src = make(tmp_path / "in", f"{stem}2026-09-20-21-05-11_hw1.ipynb",
               f"{stem}2026-09-20-21-05-11.txt", f"{stem}2026-09-22-23-58-40_my_hw1.ipynb",
               f"{stem}2026-09-22-23-58-40.txt")
    [sub] = find_submissions(src, tmp_path / "work")
    assert sub.student_id == "2023003"
    assert sub.path.name == f"{stem}2026-09-22-23-58-40_my_hw1.ipynb"
    assert "2026-09-20-21-05-11" in " ".join(sub.notes)


def test_blackboard_latest_attempt_without_notebook_grades_the_earlier_one(tmp_path):
    stem = "HW1_2023009_attempt_"
    src = make(tmp_path / "in", f"{stem}2026-09-20-21-05-11_hw1.ipynb",
               f"{stem}2026-09-21-10-00-00_hw1.py", f"{stem}2026-09-21-10-00-00.txt")
    [sub] = find_submissions(src, tmp_path / "work")
    assert sub.student_id == "2023009" and sub.path.name.endswith("11_hw1.ipynb")
    notes = " ".join(sub.notes)
    assert "2026-09-21-10-00-00 not graded" in notes and "hw1.py" in notes


def test_blackboard_without_any_notebook_is_a_named_problem(tmp_path):
    stem = "HW1_2023009_attempt_"
    src = make(tmp_path / "in", f"{stem}2026-09-21-10-00-00_hw1.py",
               f"{stem}2026-09-21-10-00-00.txt")
    [sub] = find_submissions(src, tmp_path / "work")
    assert sub.student_id == "2023009" and sub.path is None
    assert "2026-09-21-10-00-00" in sub.problem and "hw1.py" in sub.problem


def test_non_notebook_and_empty_folder_get_rows_with_reasons(tmp_path):
    src = make(tmp_path / "in", "2023010.py", "2023011/notes.txt")
    found = by_id(find_submissions(src, tmp_path / "work"))
    assert "not a .ipynb" in found["2023010"].problem
    assert "no .ipynb" in found["2023011"].problem


def test_two_submissions_for_one_student_grade_the_newest(tmp_path):
    src = make(tmp_path / "in", "2023012.ipynb", "2023012/hw1.ipynb")
    os.utime(src / "2023012.ipynb", (1, 1))
    [sub] = find_submissions(src, tmp_path / "work")
    assert sub.path == src / "2023012" / "hw1.ipynb"
    assert "several submissions" in sub.notes[0]


def test_zip_of_submissions_including_a_wrapping_folder(tmp_path):
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("gradebook_export/2023001.ipynb", NB)
        z.writestr("gradebook_export/2023002/x.ipynb", NB)
    found = by_id(find_submissions(archive, tmp_path / "work"))
    assert sorted(found) == ["2023001", "2023002"]


@pytest.mark.parametrize(("member", "flat"), [("../evil.ipynb", "evil"), ("/abs.ipynb", "abs"),
                                              ("a/../../b.ipynb", "a_b")],
                         ids=["parent", "absolute", "nested-parent"])
def test_zip_slip_is_flattened_inside_the_batch(tmp_path, member, flat, capsys):
    """A batch zip's unsafe name lands flattened inside it (one name never stops a batch)."""
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr(member, NB)
    [sub] = find_submissions(archive, tmp_path / "work")
    assert sub.student_id == flat and sub.path.is_relative_to(tmp_path / "work")
    assert not (tmp_path / "evil.ipynb").exists() and not (tmp_path / "b.ipynb").exists()
    assert "unsafe path" in capsys.readouterr().err


def test_missing_source_is_an_error_naming_it(tmp_path):
    with pytest.raises(SubmissionError, match="nowhere"):
        find_submissions(tmp_path / "nowhere", tmp_path / "work")


def test_odd_student_names_get_a_readable_id_and_are_graded(tmp_path):
    src = make(tmp_path / "in", "John Smith (1).ipynb")
    [sub] = find_submissions(src, tmp_path / "work")
    assert sub.student_id == "John_Smith" and not sub.problem
    assert "derived from the name 'John Smith (1)'" in sub.notes[0]


def test_blackboard_usernames_with_underscores_come_from_the_receipt(tmp_path):
    """'Homework 1_kim_js_attempt_…': the receipt's 'Name: … (kim_js)' decides the id."""
    stem = "Homework 1_kim_js_attempt_2026-09-22-23-58-40"
    src = make(tmp_path / "in", f"{stem}_hw1 (1).ipynb")
    (src / f"{stem}.txt").write_text("Name: Kim Jisoo (kim_js)\nAssignment: Homework 1\n"
                                     "Date Submitted: Monday, September 22, 2026\n")
    [sub] = find_submissions(src, tmp_path / "work")
    assert sub.student_id == "kim_js" and sub.path.name == f"{stem}_hw1 (1).ipynb"
    assert not sub.problem


def test_blackboard_without_receipt_falls_back_to_the_file_name(tmp_path):
    src = make(tmp_path / "in", "HW1_2023001_attempt_2026-09-22-23-58-40_hw1.ipynb")
    [sub] = find_submissions(src, tmp_path / "work")
    assert sub.student_id == "2023001"


def test_student_ids_in_any_script_are_kept(tmp_path):
    src = make(tmp_path / "in", "홍길동.ipynb")
    [sub] = find_submissions(src, tmp_path / "work")
    assert sub.student_id == "홍길동" and not sub.problem
