"""Finding an assignment's pieces, and the version that decides when to regrade."""

from __future__ import annotations

import pytest

from autograder.catalog import GRADING_MODULES, PROJECT_ROOT, Assignment
from autograder.errors import UnknownAssignment


def test_hw1_pieces_and_questions():
    hw1 = Assignment.find("hw1")
    assert hw1.grader.name == "hw1.py" and hw1.reference.name == "reference.py"
    assert [p.name for p in hw1.public_files] == ["digits.npz"]
    assert list(hw1.questions) == ["perceptron", "sigmoid", "neural_network", "mean_squared_error",
                                   "sigmoid_cross_entropy", "softmax", "softmax_cross_entropy"]
    assert hw1.max_score == 100


@pytest.mark.parametrize("name, message", [("hw99", "no graders for 'hw99'"),
                                           ("../etc", "is not an assignment name")],
                         ids=["unknown", "path"])
def test_bad_names_are_refused(name, message):
    with pytest.raises(UnknownAssignment, match=message):
        Assignment.find(name)


def test_version_covers_the_grading_engine_but_not_exports():
    """Editing the CLI or the exports never forces a regrade; the grading modules do."""
    assert all((PROJECT_ROOT / "autograder" / m).is_file() for m in GRADING_MODULES)
    assert not {"cli.py", "batch.py", "store.py", "feedback.py"} & set(GRADING_MODULES)


def test_version_changes_with_the_reference(tmp_path):
    root = tmp_path / "repo"
    for folder in ("autograder/graders", "solutions/hw1", "assignments/hw1"):
        (root / folder).mkdir(parents=True)
    (root / "autograder/graders/hw1.py").write_text("QUESTIONS = {'q': 1}\n")
    (root / "solutions/hw1/reference.py").write_text("x = 1\n")
    before = Assignment.find("hw1", root).version
    (root / "solutions/hw1/reference.py").write_text("x = 2\n")
    assert Assignment.find("hw1", root).version != before


def _assignment_declaring(tmp_path, packages: str) -> Assignment:
    root = tmp_path / "repo"
    for folder in ("autograder/graders", "solutions/hwx", "assignments/hwx"):
        (root / folder).mkdir(parents=True)
    (root / "autograder/graders/hwx.py").write_text(f"QUESTIONS = {{'q': 1}}\nPACKAGES = {packages}\n")
    (root / "solutions/hwx/reference.py").write_text("x = 1\n")
    return Assignment.find("hwx", root)


def test_extra_packages_are_declared_by_the_graders_and_missing_ones_named(tmp_path):
    hwx = _assignment_declaring(tmp_path, "['numpy>=1.0', 'surely-not-installed-pkg>=1', "
                                          "'numpy<1.0']")
    assert hwx.packages == ("numpy>=1.0", "surely-not-installed-pkg>=1", "numpy<1.0")
    assert hwx.missing_packages() == ["surely-not-installed-pkg>=1", "numpy<1.0"]
    assert Assignment.find("hw1").packages == () and Assignment.find("hw1").missing_packages() == []


@pytest.mark.parametrize("packages", ["'numpy'", "['not a requirement!!']", "[3]"])
def test_bad_package_declarations_are_grader_errors(tmp_path, packages):
    from autograder.errors import GraderDefinitionError

    with pytest.raises(GraderDefinitionError, match="PACKAGES"):
        assert _assignment_declaring(tmp_path, packages).packages is None
