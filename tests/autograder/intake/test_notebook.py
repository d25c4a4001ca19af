"""Reading submissions: nbformat, upgrades, and what is left out of grading."""

from __future__ import annotations

import json

import nbformat
import pytest

from autograder.intake.notebook import InvalidNotebook, is_otter_cell, read_notebook


def write_v4(path, *sources, markdown=("# title",)):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(m) for m in markdown]
    nb.cells += [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(nb, path)
    return path


@pytest.mark.parametrize("source, otter", [
    ("import otter\ngrader = otter.Notebook('hw1.ipynb')", True),
    ('grader.check("sigmoid")', True),
    ("grader.check_all()\ngrader.export(run_tests=True)", True),
    ("def sigmoid(x):\n    return x\ngrader.check('sigmoid')", False),
    ("%time grader.check('x')", False),
    ("import otter, numpy", False),
    ("", False),
    ("\uff47rader.check('sigmoid')  # fullwidth g: Python reads grader", True),
    ("x = 1  # 주석", False),
], ids=["init", "check", "export", "mixed-with-code", "magic", "otter-and-numpy", "empty",
        "nfkc-spelling", "non-ascii-code"])
def test_otter_cells_are_recognised_only_when_pure(source, otter):
    """Only cells made of otter plumbing alone are left out; code is never dropped."""
    assert is_otter_cell(source) is otter


def test_code_cells_in_order_without_otter_or_empty_cells(tmp_path):
    path = write_v4(tmp_path / "a.ipynb", "import otter\ngrader = otter.Notebook()", "x = 1",
                    "   ", "grader.check('q')", "%%time\ny = 2")
    notebook = read_notebook(path)
    assert [(c.index, c.source) for c in notebook.cells] == [(2, "x = 1"), (5, "%%time\ny = 2")]
    assert notebook.warnings == ()


def test_v3_notebook_is_upgraded_and_noted(tmp_path):
    v4 = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("def f():\n    return 1")])
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps(nbformat.convert(v4, 3)))
    notebook = read_notebook(path)
    assert [c.source for c in notebook.cells] == ["def f():\n    return 1"]
    assert any("v3" in w for w in notebook.warnings)


@pytest.mark.parametrize("content, reason", [
    (b'{"cells": [', "not valid JSON"),
    (b"[1, 2]", "not a Jupyter notebook"),
    (b'{"a": 1}', "not a Jupyter notebook"),
    (b"\xff\xfe\x00garbage", "not UTF-8"),
    (json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []}).encode(),
     "no code cells"),
], ids=["truncated", "json-list", "json-object", "binary", "empty"])
def test_unreadable_notebooks_say_why(tmp_path, content, reason):
    path = tmp_path / "bad.ipynb"
    path.write_bytes(content)
    with pytest.raises(InvalidNotebook, match=reason):
        read_notebook(path)


def test_schema_problems_are_noted_but_code_is_graded(tmp_path):
    """A notebook with an out-of-schema field is still graded (kinder than refusing)."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    raw = json.loads(nbformat.writes(nb))
    raw["cells"][0]["unexpected"] = True
    path = tmp_path / "odd.ipynb"
    path.write_text(json.dumps(raw))
    notebook = read_notebook(path)
    assert [c.source for c in notebook.cells] == ["x = 1"]
    assert any("nbformat" in w for w in notebook.warnings)
