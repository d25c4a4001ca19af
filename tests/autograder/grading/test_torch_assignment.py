"""A small torch assignment of the tests' own (``torch_assignment/``), graded end to end:
the manifest's ``preload``, the torch limits, tensors and modules across the boundary,
``call_backward``, ``run_module`` and the toolkit's tensor checks, in hidden graders.

Expected: an honest notebook in another style (modules instead of functional calls) earns
everything; each planted mistake costs its question, and only it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

pytest.importorskip("torch")

HERE = Path(__file__).resolve().parent
SEED = 474

COMMON = '''
import torch
import torch.nn as nn
import torch.nn.functional as F
'''
CONV = '''
def conv(x, w, b, stride=1, pad=0):
    return F.conv2d(x, w, b, stride=stride, padding=pad)
'''
NET = '''
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 2, 3, padding=1)
        self.relu = nn.ReLU()
        self.drop = nn.Dropout(0.5)
        self.fc = nn.Linear(32, 3)

    def forward(self, x):
        return self.fc(torch.flatten(self.drop(self.relu(self.conv1(x))), 1))
'''
FIT = '''
def fit(x, y):
    torch.manual_seed(0)
    net = Net()
    optimizer = torch.optim.Adam(net.parameters(), lr=0.05)
    net.train()
    for _ in range(150):
        optimizer.zero_grad()
        F.cross_entropy(net(x), y).backward()
        optimizer.step()
    return net.state_dict()
'''
FLIPPED_CONV = '''
def conv(x, w, b, stride=1, pad=0):
    return F.conv2d(x, torch.flip(w, [2, 3]), b, stride=stride, padding=pad)
'''
DETACHED_CONV = '''
def conv(x, w, b, stride=1, pad=0):
    return F.conv2d(x.detach(), w.detach(), b.detach(), stride=stride, padding=pad)
'''
NO_BIAS_NET = NET.replace("nn.Linear(32, 3)", "nn.Linear(32, 3, bias=False)")
LAZY_FIT = '''
def fit(x, y):
    return Net().state_dict()
'''
NOTEBOOKS = {
    "honest": (COMMON, CONV, NET, FIT),
    "flipped": (COMMON, FLIPPED_CONV, NET, FIT),
    "detached": (COMMON, DETACHED_CONV, NET, FIT),
    "nobias": (COMMON, CONV, NO_BIAS_NET, FIT),
    "lazy": (COMMON, CONV, NET, LAZY_FIT),
}
EXPECTED = {"honest": {"conv": 4, "net": 3, "fit": 3},
            "flipped": {"conv": 0, "net": 3, "fit": 3},
            "detached": {"conv": 2, "net": 3, "fit": 3},
            "nobias": {"conv": 4, "net": 0, "fit": 0},  # fit's state_dict lacks fc.bias too
            "lazy": {"conv": 4, "net": 3, "fit": 0}}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("project")
    shutil.copytree(HERE / "torch_assignment", root / "solutions" / "tconv")
    (root / "assignments" / "tconv").mkdir(parents=True)
    paths = []
    for name, cells in NOTEBOOKS.items():
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
        path = root / f"{name}.ipynb"
        nbformat.write(notebook, path)
        paths.append(str(path))
    run = subprocess.run([sys.executable, str(HERE / "grade_with_own_limits.py"), str(root),
                          "tconv", str(SEED), *paths], capture_output=True, text=True,
                         timeout=1200, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout)


def test_the_torch_limits_apply(graded):
    assert graded["limits"] == {"address_space": 2 * 1024**3, "startup_seconds": 120.0}


@pytest.mark.parametrize("name", list(NOTEBOOKS))
def test_each_notebook_earns_what_it_should(graded, name):
    record = next(r for r in graded["results"] if r["student_id"] == name)
    assert record["status"] == "graded", record
    earned = {}
    for test in record["tests"]:
        points = test["max_points"] if test["passed"] else test["max_points"] * test["partial"]
        earned[test["question"]] = earned.get(test["question"], 0) + points
    assert earned == EXPECTED[name], [(t["name"], t["feedback"]) for t in record["tests"]]
