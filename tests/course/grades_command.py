"""The instructor's ``course grades`` command on a term folder (tests' shared helper)."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from course.cli import main


def grades(term: Path, policy: Path, out: Path, *extra: str) -> int:
    """Run ``grades`` on the example term's files in ``term``; its exit code."""
    return main(["grades", "--policy", str(policy), "--roster", str(term / "roster.csv"),
                 "--homework", str(term / "hw1_gradebook.csv"),
                 "--scores", str(term / "scores.csv"), "--quizzes", str(term / "quizzes.csv"),
                 "--attendance", str(term / "attendance.csv"), "--out", str(out), *extra],
                console=Console(file=io.StringIO(), width=200))
