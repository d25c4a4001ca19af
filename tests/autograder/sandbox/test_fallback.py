"""The fallback without bubblewrap (``sandbox.fallback``): its folders and its one-submission rule."""

from __future__ import annotations

import contextlib
import os
import stat

import pytest

from autograder.sandbox import fallback


def test_removing_a_folder_already_gone_leaves_its_parent_alone(tmp_path):
    """The zygote's sweep may delete a worker folder first; the parent (``/tmp`` in real
    use) keeps its mode (an earlier version chmod-ed it to 0700, locking other users out)."""
    os.chmod(tmp_path, 0o1777)
    fallback.remove_folder(str(tmp_path / "gone"))
    assert stat.S_IMODE(os.stat(tmp_path).st_mode) == 0o1777


def test_removing_a_folder_opens_up_what_the_worker_locked(tmp_path):
    os.chmod(tmp_path, 0o1777)
    folder = tmp_path / "worker"
    (folder / "locked" / "deep").mkdir(parents=True)
    (folder / "locked" / "deep" / "answer.py").write_text("x")
    os.chmod(folder / "locked" / "deep", 0)
    os.chmod(folder / "locked", 0)
    fallback.remove_folder(str(folder))
    assert not folder.exists()
    assert stat.S_IMODE(os.stat(tmp_path).st_mode) == 0o1777


def test_worker_folder_is_private_to_its_uid(tmp_path):
    public = tmp_path / "digits.npz"
    public.write_bytes(b"data")
    folder = fallback.worker_folder([public], None)
    try:
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
        assert sorted(os.listdir(folder)) == ["digits.npz", "tmp"]
    finally:
        fallback.remove_folder(folder)


def test_only_sticky_world_writable_folders_are_swept():
    for folder in fallback.shared_scratch():
        mode = os.stat(folder).st_mode
        assert mode & stat.S_IWOTH and mode & stat.S_ISVTX


def test_the_shared_mode_grades_one_submission_per_process(monkeypatch):
    monkeypatch.setattr(fallback, "_SHARED_GRADED", [])
    fallback.claim_shared()
    with pytest.raises(fallback.SharedFallbackUsed, match="one submission only"):
        fallback.claim_shared()


@pytest.mark.skipif(os.geteuid() != 0, reason="the fallback's uids of their own need root")
def test_a_dead_runs_leftovers_are_swept_before_a_sandbox_starts():
    """A grading process killed before it swept: what its uid left in /tmp (or /dev/shm)
    is deleted before the next fallback sandbox starts, whatever uid that one gets."""
    from autograder.sandbox.launch import UID_BASE

    busy = fallback.running_uids()
    dead = next(u for u in range(UID_BASE + fallback.UID_SPAN - 1, UID_BASE, -1) if u not in busy)
    folder = fallback.shared_scratch()[0]
    planted = os.path.join(folder, f"answer-{os.getpid()}.py")
    with open(planted, "w") as handle:
        handle.write("ANSWER = 42")
    os.chown(planted, dead, dead)
    try:
        uid = fallback.own_uid(UID_BASE + 7, UID_BASE)
        if uid is None:
            pytest.skip("the interpreter does not start as another uid here")
        assert not os.path.exists(planted)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(planted)


def test_worker_folders_of_dead_grading_processes_are_swept(tmp_path):
    """A grading process killed before it closed its sandbox left its folder; the next
    sandbox of that user deletes it, and never one of a process still alive."""
    dead = next(pid for pid in range(4_000_000, 3_000_000, -1) if not os.path.exists(f"/proc/{pid}"))
    left = tmp_path / f"{fallback.FOLDER_PREFIX}{dead}-abc"
    (left / "tmp").mkdir(parents=True)
    (left / "answer.py").write_text("ANSWER = 42")
    mine = tmp_path / f"{fallback.FOLDER_PREFIX}{os.getpid()}-def"
    mine.mkdir()
    other = tmp_path / "not-a-worker-folder"
    other.mkdir()
    fallback.sweep_dead_folders(str(tmp_path))
    assert not left.exists() and mine.exists() and other.exists()

