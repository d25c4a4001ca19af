"""Zip members are data: no name chooses where it lands, and a submission's zips cost little.

The attacks of issue 22 (items 1 and 4): backslash, UNC and drive-letter names
through the batch zip, a student's ``<id>.zip`` and a Blackboard attachment;
zip bombs across Blackboard attempts. Every hostile name aims inside
``tmp_path`` (never at the real machine), and each test checks that nothing
appeared there: the old ``extract_zip`` wrote those files.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from autograder.intake.find import find_submissions
from autograder.intake.unzip import MAX_SUBMISSION_FILES, member_parts

NB = '{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []}'
STAMPS = ("2026-09-20-10-00-00", "2026-09-21-10-00-00", "2026-09-22-10-00-00",
          "2026-09-23-10-00-00")


def zip_bytes(members: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def hostile_names(victim: Path) -> dict[str, str]:
    """Names that, read with ``\\`` as a separator, point at ``victim/<kind>.ipynb``."""
    back = str(victim).replace("/", "\\")
    return {"backslash": f"{back}\\backslash.ipynb",
            "unc": f"\\\\{back.lstrip(chr(92))}\\unc.ipynb",
            "mixed": f"\\{str(victim).lstrip('/')}/mixed.ipynb",
            "forward-unc": f"//{str(victim).lstrip('/')}/forward-unc.ipynb"}


def written(victim: Path) -> list[str]:
    return sorted(p.name for p in victim.rglob("*")) if victim.exists() else []


def disk_bytes(folder: Path) -> int:
    return sum(p.lstat().st_blocks * 512 for p in folder.rglob("*"))


def bb(src: Path, user: str, stamp: str, files: dict[str, bytes]) -> None:
    prefix = f"HW1_{user}_attempt_{stamp}"
    (src / f"{prefix}.txt").write_text(f"Name: A Student ({user})\nAssignment: HW1\n")
    for name, data in files.items():
        (src / f"{prefix}_{name}").write_bytes(data)


@pytest.mark.parametrize(("name", "parts", "unsafe"), [
    ("a/b.ipynb", ("a", "b.ipynb"), False),
    ("a\\b.ipynb", ("a", "b.ipynb"), False),
    ("\\tmp\\x\\y.ipynb", ("tmp", "x", "y.ipynb"), True),
    ("\\\\server\\share\\y.ipynb", ("server", "share", "y.ipynb"), True),
    ("C:\\Users\\y.ipynb", ("Users", "y.ipynb"), True),
    ("C:y.ipynb", ("y.ipynb",), True),
    ("a\\..\\..\\y.ipynb", ("a", "y.ipynb"), True),
    ("./a/./y.ipynb", ("a", "y.ipynb"), False),
], ids=["posix", "backslash", "absolute", "unc", "drive", "drive-relative", "parent", "dots"])
def test_member_names_are_read_with_both_separators(name, parts, unsafe):
    assert member_parts(name) == (parts, unsafe)


def test_batch_zip_names_cannot_leave_the_target(tmp_path):
    """Backslash, UNC and mixed names in the batch zip are flattened inside it, and graded."""
    victim = tmp_path / "victim"
    names = hostile_names(victim)
    archive = tmp_path / "download.zip"
    archive.write_bytes(zip_bytes({**{n: NB for n in names.values()}, "honest.ipynb": NB}))
    found = {s.student_id: s for s in find_submissions(archive, tmp_path / "work")}
    assert written(victim) == []
    assert "honest" in found and len(found) == 1 + len(names)
    for submission in found.values():
        assert submission.path is not None
        assert submission.path.resolve().is_relative_to((tmp_path / "work").resolve())


@pytest.mark.parametrize("kind", ["backslash", "unc", "mixed", "forward-unc"])
def test_a_students_zip_with_a_hostile_name_is_that_students_problem(tmp_path, kind):
    victim = tmp_path / "victim"
    src = tmp_path / "in"
    src.mkdir()
    (src / "2023005.zip").write_bytes(zip_bytes({hostile_names(victim)[kind]: NB}))
    (src / "2023006.ipynb").write_text(NB)
    found = {s.student_id: s for s in find_submissions(src, tmp_path / "work")}
    assert written(victim) == []
    assert "unsafe path" in found["2023005"].problem
    assert found["2023006"].path is not None


@pytest.mark.parametrize("kind", ["backslash", "unc"])
def test_a_blackboard_attachment_with_a_hostile_name_is_refused(tmp_path, kind):
    victim = tmp_path / "victim"
    src = tmp_path / "in"
    src.mkdir()
    bb(src, "kim", STAMPS[0], {"hw1.zip": zip_bytes({hostile_names(victim)[kind]: NB})})
    [kim] = find_submissions(src, tmp_path / "work")
    assert written(victim) == []
    assert kim.path is None and "unsafe path" in kim.problem


def test_a_hostile_name_never_replaces_another_students_file(tmp_path):
    """A flattened name that equals an existing member's is skipped, not written over it."""
    archive = tmp_path / "download.zip"
    archive.write_bytes(zip_bytes({"lee.ipynb": NB, "..\\lee.ipynb": "forged"}))
    [lee] = find_submissions(archive, tmp_path / "work")
    assert lee.path is not None and lee.path.read_text() == NB


def test_zip_bombs_across_attempts_cost_no_space(tmp_path):
    """Issue 22 item 4: attempts 2-4 each attach a small zip holding a big member."""
    src = tmp_path / "in"
    src.mkdir()
    bb(src, "kim", STAMPS[0], {"hw1.ipynb": NB.encode()})
    bomb = zip_bytes({"data.bin": bytes(24 * 1024 * 1024)})
    assert len(bomb) < 100_000
    for stamp in STAMPS[1:]:
        bb(src, "kim", stamp, {"bomb.zip": bomb})
    work = tmp_path / "work"
    [kim] = find_submissions(src, work)
    assert kim.path is not None and kim.path.name.endswith("hw1.ipynb")
    assert disk_bytes(work) < 1024 * 1024, disk_bytes(work)


def test_an_oversized_notebook_in_a_zip_is_named_not_extracted(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "2023007.zip").write_bytes(zip_bytes({"hw1.ipynb": b" " * (40 * 1024 * 1024)}))
    work = tmp_path / "work"
    [sub] = find_submissions(src, work)
    assert sub.path is None and "over the" in sub.problem and "hw1.ipynb" in sub.problem
    assert disk_bytes(work) < 1024 * 1024


def test_the_file_count_is_capped_across_attempts(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    many = zip_bytes({f"f{i}.txt": "" for i in range(MAX_SUBMISSION_FILES // 2 + 1)})
    for stamp in STAMPS[:3]:
        bb(src, "kim", stamp, {"stuff.zip": many})
    work = tmp_path / "work"
    [kim] = find_submissions(src, work)
    assert kim.path is None and "too many files" in kim.problem
    assert sum(1 for _ in work.rglob("*")) < 100


def test_batch_zip_writes_only_what_intake_reads(tmp_path):
    """A big member intake never reads (a dataset, a .py) is an empty file, named in notes."""
    archive = tmp_path / "download.zip"
    archive.write_bytes(zip_bytes({"2023001.ipynb": NB, "2023002.py": bytes(24 * 1024 * 1024),
                                   "2023003/data.bin": bytes(24 * 1024 * 1024),
                                   "2023003/hw1.ipynb": NB}))
    work = tmp_path / "work"
    found = {s.student_id: s for s in find_submissions(archive, work)}
    assert sorted(found) == ["2023001", "2023002", "2023003"]
    assert "not a .ipynb" in found["2023002"].problem
    assert found["2023003"].path is not None
    assert disk_bytes(work) < 1024 * 1024, disk_bytes(work)


def test_an_oversized_notebook_in_the_batch_zip_keeps_its_row_and_size(tmp_path):
    archive = tmp_path / "download.zip"
    archive.write_bytes(zip_bytes({"2023001.ipynb": b" " * (40 * 1024 * 1024)}))
    work = tmp_path / "work"
    [sub] = find_submissions(archive, work)
    assert sub.path is not None and os.path.getsize(sub.path) == 40 * 1024 * 1024
    assert disk_bytes(work) < 1024 * 1024  # a sparse placeholder: intake names the size


def test_a_zip_of_too_many_members_is_refused_before_its_directory_is_read(tmp_path,
                                                                           monkeypatch):
    """A million empty members cost ``ZipFile`` half a GB and many seconds to list: the
    end record's count is checked first, and ``ZipFile`` never opens such a zip."""
    from autograder.intake import unzip

    src = tmp_path / "in"
    src.mkdir()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for i in range(MAX_SUBMISSION_FILES + 1):
            archive.writestr(f"{i:x}", b"")
    (src / "2023008.zip").write_bytes(buffer.getvalue())
    (tmp_path / "download.zip").write_bytes(buffer.getvalue())

    def never(*args, **kwargs):
        raise AssertionError("ZipFile parsed a directory that was over the limit")

    monkeypatch.setattr(unzip.zipfile, "ZipFile", never)
    [sub] = find_submissions(src, tmp_path / "work")
    assert sub.path is None and "too many files" in sub.problem
    with pytest.raises(unzip.SubmissionError, match="more than"):
        find_submissions(tmp_path / "download.zip", tmp_path / "work2")
