"""A one-student Blackboard "Assignment File Download" (receipt + notebook) for tests."""

from __future__ import annotations

from pathlib import Path

BROKEN = "{ not a notebook"  # invalid without a sandbox: fast


def receipt_download(src: Path, username: str, *, title: str = "HW1",
                     stamp: str = "2026-09-23-23-00-00",
                     date: str = "Wednesday, September 23, 2026 11:00:00 PM KST",
                     comments: str = "") -> None:
    src.mkdir(parents=True, exist_ok=True)
    prefix = f"{title}_{username}_attempt_{stamp}"
    (src / f"{prefix}_hw1.ipynb").write_text(BROKEN)
    (src / f"{prefix}.txt").write_text(
        f"Name: Some One ({username})\nAssignment: {title}\nDate Submitted: {date}\n"
        "Current Grade: Needs Grading\n\nSubmission Field:\nThere is no student submission "
        "text data for this assignment.\n\nComments:\n"
        f"{comments or 'There are no student comments for this assignment.'}\n\n"
        f"Files:\n\tOriginal filename: hw1.ipynb\n\tFilename: {prefix}_hw1.ipynb\n")
