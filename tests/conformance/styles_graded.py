"""The TA's ``grade`` command on notebooks written in students' styles (shared helper)."""

from __future__ import annotations

import csv
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest


def grade_styles(factory: pytest.TempPathFactory, assignment: str,
                 write: Callable[[Path], object], timeout: float) -> Path:
    """Write the styles' notebooks, grade them with ``grade`` in a subprocess; the OUT folder."""
    source, out = factory.mktemp("styles"), factory.mktemp("out")
    write(source)
    run = subprocess.run([sys.executable, "-m", "autograder", "grade", assignment, str(source),
                          "--out", str(out), "--seed", "474", "--quiet"],
                         capture_output=True, text=True, timeout=timeout, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    return out


def gradebook_rows(out: Path) -> dict[str, dict[str, str]]:
    """``OUT/gradebook.csv`` by student id."""
    text = (out / "gradebook.csv").read_text()
    return {row["student_id"]: row for row in csv.DictReader(text.splitlines())}
