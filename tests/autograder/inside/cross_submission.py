"""Grading several notebooks in order in one grading process (``--jobs 1``), for the
attacks that one submission aims at the next through the warm sandbox."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat


def notebook(*sources: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])


def grade_in_order(submissions: dict[str, nbformat.NotebookNode], source: Path, out: Path, *,
                   cell_timeout: int, submission_timeout: int,
                   timeout: float) -> dict[str, dict[str, Any]]:
    """Write ``submissions`` (id -> notebook) to ``source``, grade them in one process with
    seed 5, and return each id's results.json."""
    for sid, nb in submissions.items():
        nbformat.write(nb, source / f"{sid}.ipynb")
    run = subprocess.run([sys.executable, "-m", "autograder", "grade", "hw1", str(source), "--out",
                          str(out), "--jobs", "1", "--seed", "5",
                          "--cell-timeout", str(cell_timeout),
                          "--submission-timeout", str(submission_timeout), "--quiet"],
                         capture_output=True, text=True, timeout=timeout, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    return {sid: json.loads((out / sid / "results.json").read_text()) for sid in submissions}
