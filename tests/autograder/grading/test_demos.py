"""Which demonstration cells a submission skips (``demos.plan``), and the author's check.

The rule (docs/grading-policy.md): an unchanged demonstration is skipped unless something
that runs after it, or a function of the notebook, or a grader reads a name it binds.
"""

from __future__ import annotations

import pytest

from autograder.grading import demos
from autograder.grading.catalog import Assignment

PLOT = "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.plot(losses)\nplt.show()"
TRAIN = "losses = []\nfor epoch in range(3):\n    losses.append(step(epoch))"
SETUP = "def step(epoch):\n    return 1.0 / (epoch + 1)"
DEMOS = frozenset({demos.normalized(PLOT), demos.normalized(TRAIN)})


def skipped(*cells: str) -> list[int]:
    return sorted(demos.plan(list(cells), DEMOS).skipped)


def test_unchanged_demonstrations_are_skipped() -> None:
    assert skipped(SETUP, TRAIN, PLOT) == [1, 2]


def test_the_comparison_ignores_trailing_spaces_and_blank_ends() -> None:
    assert skipped(SETUP, "\n" + TRAIN.replace("\n", "  \n") + "\n\n", PLOT) == [1, 2]


def test_a_changed_demonstration_is_the_students_code() -> None:
    assert skipped(SETUP, TRAIN.replace("range(3)", "range(30)"), PLOT) == [2]


def test_a_later_cell_that_reads_what_it_binds_makes_it_run() -> None:
    assert skipped(SETUP, TRAIN, PLOT, "print(losses[-1])") == [2]  # PLOT binds no `losses`
    assert skipped(SETUP, TRAIN, PLOT, "best = min(losses)") == [2]
    assert skipped(SETUP, TRAIN, PLOT, "print(fig)") == []  # PLOT runs, and reads TRAIN's
    # order within a cell is not followed: rebinding before reading still counts as a read
    assert skipped(SETUP, TRAIN, PLOT, "losses = [0.5]\nprint(losses)") == [2]


def test_an_earlier_cell_does_not_need_it() -> None:
    assert skipped("losses = [1.0]\nprint(losses)", TRAIN, PLOT) == [1, 2]


def test_a_function_anywhere_that_reads_it_makes_it_run() -> None:
    """A grader may call the function after every cell ran, as in Jupyter."""
    early = "def report():\n    return len(losses)"
    assert skipped(early, SETUP, TRAIN, PLOT) == [3]
    assert skipped(SETUP, TRAIN, PLOT, "class Log:\n    def last(self):\n        return fig") == []


def test_a_parameter_or_local_of_the_same_name_is_not_a_read() -> None:
    own = "def forward(losses, fig):\n    total = losses + 1\n    return total, fig\n" \
          "values = [fig for fig in range(3)]\n" \
          "def count():\n    epoch = 0\n    epoch += 1\n    del epoch"
    assert skipped(SETUP, TRAIN, PLOT, own) == [1, 2]


def test_augmented_assignment_and_del_read_the_name() -> None:
    assert skipped(SETUP, TRAIN, PLOT, "epoch += 1") == [2]
    assert skipped(SETUP, TRAIN, PLOT, "del ax") == []


@pytest.mark.parametrize("reader", [
    "print(globals()['losses'])", "eval('losses')", "exec('print(losses)')", "print(dir())",
    "print(vars())", "print(_)", "print(Out)", "import __main__\nprint(__main__.losses)",
    "import sys\nprint(sys.modules['__main__'].losses)", "get_ipython().user_ns['losses']",
    "%who", "!echo {losses}", "!echo $losses", "%run other.py",
])
def test_reading_the_globals_in_ways_not_followed_runs_every_demonstration_before(reader: str) -> None:
    assert skipped(SETUP, TRAIN, PLOT, reader) == []
    assert skipped(reader, SETUP, TRAIN, PLOT) == [2, 3]  # before them: nothing to need yet


def test_a_function_that_reads_the_globals_by_reflection_runs_every_demonstration() -> None:
    assert skipped("def f():\n    return globals()", SETUP, TRAIN, PLOT) == []


@pytest.mark.parametrize("harmless", [
    "%matplotlib inline", "!pip install tqdm", "if __name__ == '__main__':\n    print(1)",
    "print(dir([]))", "%load_ext autoreload\n%autoreload 2",
    "for _ in range(3):\n    pass", "forward?",
])
def test_magics_and_idioms_that_read_nothing_it_binds_do_not_stop_a_skip(harmless: str) -> None:
    assert skipped(SETUP, TRAIN, PLOT, harmless) == [1, 2]
    assert skipped(harmless, SETUP, TRAIN, PLOT) == [2, 3]


def test_a_code_magic_reads_what_its_code_reads() -> None:
    assert skipped(SETUP, TRAIN, PLOT, "%time best = min(losses)") == [2]
    assert skipped(SETUP, TRAIN, PLOT, "%%time\nprint(fig)") == []
    assert skipped(SETUP, TRAIN, PLOT, "%%capture out\nprint(1)") == [1, 2]


def test_demonstrations_that_need_each_other_are_decided_together() -> None:
    """PLOT reads TRAIN's `losses`: once something needs PLOT, TRAIN runs too; a demonstration
    needed only by a skipped one stays skipped."""
    assert skipped(SETUP, TRAIN, PLOT, "print(ax)") == []
    shown = "print(len(losses))"
    assert sorted(demos.plan([SETUP, TRAIN, PLOT, shown], DEMOS | {shown}).skipped) == [1, 2, 3]
    assert skipped(SETUP, TRAIN, "def last():\n    return losses[-1]", PLOT) == [3]


def test_a_cell_that_does_not_compile_runs_nothing_and_needs_nothing() -> None:
    assert skipped("x = ", SETUP, TRAIN, PLOT, "def f(:\n    pass") == [2, 3]


def test_a_global_assigned_by_the_students_function_counts_as_bound_by_a_calling_demo() -> None:
    counting = "calls = 0\ndef step(epoch):\n    global calls\n    calls += 1\n    return 1.0"
    assert skipped(counting, TRAIN, PLOT, "print(calls)") == []
    assert skipped(counting, TRAIN, PLOT) == []  # step reads `calls`, and a grader may call it


def test_a_star_import_in_a_demonstration_keeps_it() -> None:
    star = "from math import *"
    assert demos.plan([star], {star}).skipped == {}


def test_the_plan_names_what_a_skipped_cell_binds() -> None:
    found = demos.plan([SETUP, TRAIN, PLOT], DEMOS)
    assert found.needs("losses") and found.needs("fig") and not found.needs("step")


@pytest.mark.parametrize("cell, problem", [
    ("import numpy as np\nnp.random.seed(0)", "seed"),
    ("import torch\ntorch.manual_seed(474)", "manual_seed"),
    ("import os\nos.chdir('/tmp')", "chdir"),
    ("from math import *", "*"),
    ("def f():\n    global g\n    g = 1", "global"),
    ("print(globals())", "cannot follow"),
])
def test_the_author_is_told_what_a_demonstration_must_not_do(cell: str, problem: str) -> None:
    assert any(problem in p for p in demos.demo_problems(cell))


@pytest.mark.parametrize("name", ["hw1", "hw2", "hw3"])
def test_the_course_demonstrations_are_clean_and_present(name: str) -> None:
    found = Assignment.find(name).demo_cells
    assert found
    for text in found:
        assert demos.demo_problems(text) == [], text[:80]


def test_a_notebook_too_large_to_analyse_runs_whole() -> None:
    """The analysis runs on the trusted side: a hostile notebook of 2 MiB of code would
    cost seconds of it; past ``MAX_PLAN_CHARS`` nothing is skipped and nothing analysed."""
    filler = "def f(x):\n" + "    x = x + 1\n" * (demos.MAX_PLAN_CHARS // 14)
    assert skipped(SETUP, TRAIN, PLOT, filler) == []
    assert skipped(SETUP, TRAIN, PLOT, filler[:1000]) == [1, 2]
