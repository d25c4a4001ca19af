"""An answer written in a markdown or raw cell: the feedback says where it is
(``autograder.grading.prose``); it failed on the old code with only "is not defined"."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat

from autograder.grading.prose import written_in_prose

REPO = Path(__file__).resolve().parents[3]
HW1 = (REPO / "solutions" / "hw1" / "reference.py").read_text()


def split_out(source: str, name: str) -> tuple[str, str]:
    """``source`` without the function ``name``, and that function's text."""
    match = re.search(rf"^def {name}\(.*?(?=^\S)", source, re.MULTILINE | re.DOTALL)
    assert match is not None
    return source.replace(match.group(0), ""), match.group(0)


def test_names_written_in_markdown_and_raw_cells_are_found(tmp_path):
    cells = [nbformat.v4.new_markdown_cell("# HW1\nThe sigmoid is 1 / (1 + e^-x)."),
             nbformat.v4.new_code_cell("import numpy as np"),
             nbformat.v4.new_markdown_cell("```python\ndef sigmoid(x):\n    return x\n```"),
             nbformat.v4.new_raw_cell("AND_WEIGHTS = (-1.5, 1, 1)\n"),
             nbformat.v4.new_code_cell("def softmax(z):\n    return z")]
    path = tmp_path / "n.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    assert written_in_prose(path, {"sigmoid", "AND_WEIGHTS", "softmax", "xor"}) == {
        "sigmoid": "a markdown cell (cell 3)", "AND_WEIGHTS": "a raw cell (cell 4)"}
    (tmp_path / "bad.ipynb").write_text("{")
    assert written_in_prose(tmp_path / "bad.ipynb", {"sigmoid"}) == {}


def test_the_feedback_of_a_name_in_a_markdown_cell_says_where_it_is(tmp_path):
    code, sigmoid = split_out(HW1, "sigmoid")
    cells = [nbformat.v4.new_code_cell(code),
             nbformat.v4.new_markdown_cell(f"My answer:\n\n```python\n{sigmoid}```")]
    (tmp_path / "in").mkdir()
    nbformat.write(nbformat.v4.new_notebook(cells=cells), tmp_path / "in" / "s1.ipynb")
    run = subprocess.run([sys.executable, "-m", "autograder", "grade", "hw1",
                          str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--seed", "1",
                          "--quiet"], capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    record = json.loads((tmp_path / "out" / "s1" / "results.json").read_text())
    sigmoid_tests = [t for t in record["tests"] if t["tags"] == ["sigmoid"]]
    assert sigmoid_tests and all(
        "`sigmoid` is written in a markdown cell (cell 2); only code cells run" in t["output"]
        for t in sigmoid_tests)
