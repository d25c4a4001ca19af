"""``autograder.inside.transform_cache``: the assignment's own cells are transformed once, in the
zygote, and a worker gets exactly what IPython computes, or IPython's own answer.

The unit tests use a real IPython shell in this process; the last ones a real sandbox.
"""

from __future__ import annotations

import pytest
from IPython.core.inputtransformer2 import TransformerManager

from autograder.grading.catalog import Assignment
from autograder.grading.session import StudentSession
from autograder.inside import transform_cache
from autograder.intake.notebook import Cell

CELLS = [
    "import numpy as np\n",
    "%matplotlib inline\nimport matplotlib.pyplot as plt",
    "!pip install torch\nx = 1",
    "files = !ls\nlen(files)",
    "np.mean?",
    "%%time\nsum(range(10))",
    "    indented = 1\n    also = 2",
    ">>> 1 + 1",
    "In [3]: y = 2",
    "def f(x):\n    return x % 2 != 0  # not magics\n",
    "",
]


class Manager(TransformerManager):
    """A TransformerManager that counts the cells it really transforms."""

    def __init__(self) -> None:
        super().__init__()
        self.computed = 0

    def transform_cell(self, cell: str) -> str:
        self.computed += 1
        return super().transform_cell(cell)


class Shell:
    def __init__(self) -> None:
        self.input_transformer_manager = Manager()


def test_a_remembered_cell_gets_exactly_what_ipython_computes_without_computing_it():
    expected = [TransformerManager().transform_cell(cell) for cell in CELLS]
    shell = Shell()
    remembered = transform_cache.install(shell)
    assert remembered.remember(list(CELLS)) == len(set(CELLS))
    computed = shell.input_transformer_manager.computed
    answers = [shell.input_transformer_manager.transform_cell(cell) for cell in CELLS]
    assert answers == expected
    assert shell.input_transformer_manager.computed == computed  # none computed again


def test_other_cells_are_computed_as_before():
    shell = Shell()
    transform_cache.install(shell).remember(["x = 1\n"])
    manager = shell.input_transformer_manager
    assert manager.transform_cell("%time y = 2") == TransformerManager().transform_cell(
        "%time y = 2")
    assert manager.computed == 2


def test_a_cell_that_changes_the_transformers_turns_remembering_off():
    shell = Shell()
    transform_cache.install(shell).remember(["x = 1\n"])
    manager = shell.input_transformer_manager
    manager.cleanup_transforms.append(lambda lines: [line.upper() for line in lines])
    assert manager.transform_cell("x = 1\n") == "X = 1\n"


@pytest.mark.parametrize("cells", [None, "x = 1", {"x": 1}, [1, b"x", None]])
def test_anything_but_a_list_of_texts_is_ignored(cells):
    shell = Shell()
    assert transform_cache.install(shell).remember(cells) == 0


def test_only_the_student_facing_notebooks_are_remembered():
    assignment = Assignment.find("hw1")
    cells = assignment.skeleton_cells
    assert any("np.load(\"digits.npz\")" in cell for cell in cells)
    assert not any("BEGIN SOLUTION" in cell for cell in cells)
    master = (assignment.home / "hw1-master.ipynb").read_text()
    assert "BEGIN SOLUTION" in master  # what must never reach a worker


def test_the_skeleton_is_read_once_per_process_not_per_submission(monkeypatch):
    """A pool's task gets an unpickled Assignment, a Dask task one found by name; asking
    each for its skeleton cells must not read and parse the notebooks again."""
    import pickle

    from autograder.grading import catalog
    from autograder.intake import notebook

    reads = []
    real = notebook.read_notebook
    monkeypatch.setattr(notebook, "read_notebook", lambda path: reads.append(path) or real(path))
    catalog._skeleton_cells.cache_clear()
    assignment = Assignment.find("hw1")
    first = assignment.skeleton_cells
    for _ in range(3):
        assert pickle.loads(pickle.dumps(assignment)).skeleton_cells == first
        assert Assignment.find("hw1").skeleton_cells == first
    assert len(reads) == 1


PROBE = ("remembered = get_ipython().input_transformer_manager.transform_cell\n"
         "print(sorted(getattr(remembered, 'known', {})))")


def _printed(session: StudentSession) -> str:
    outcome = session.outcomes[-1]
    assert outcome.status == "ok", outcome
    return outcome.stdout


def test_the_sandbox_remembers_the_cells_it_was_given_and_runs_them_as_before():
    common = ("y = 41 + 1\nprint(y)\n", "%time z = 3\n")
    session = StudentSession((Cell(0, common[0]), Cell(1, common[1]), Cell(2, PROBE)), [],
                             common_cells=common)
    try:
        session.start()
        assert session.outcomes[0].stdout.strip() == "42"
        assert session.outcomes[1].status == "ok"
        assert session.get("z") == 3
        assert _printed(session).strip() == repr(sorted(common))
    finally:
        session.close()


def test_a_sandbox_given_no_cells_remembers_none():
    session = StudentSession((Cell(0, PROBE),), [])
    try:
        session.start()
        assert _printed(session).strip() == "[]"
    finally:
        session.close()
