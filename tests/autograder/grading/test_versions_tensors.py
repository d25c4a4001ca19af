"""The torch toolkit counts in a version only as far as it is used (as ``checks`` does)."""

from __future__ import annotations

from autograder.grading.versions import engine_files


def toolkit_parts(tmp_path, source):
    grader = tmp_path / "graders.py"
    grader.write_text(source)
    return {label: data.decode() for label, data in engine_files(grader)
            if label.startswith("toolkit/")}


def test_a_numpy_assignment_does_not_depend_on_the_tensor_helpers(tmp_path):
    parts = toolkit_parts(tmp_path, "from autograder.toolkit.checks import as_float\n")
    assert "def as_tensor" not in parts["toolkit/tensors.py:used"]  # the session's ModuleRun only
    assert "class ModuleRun" in parts["toolkit/tensors.py:used"]


def test_a_tensor_helper_brings_the_checks_it_uses(tmp_path):
    """``as_tensor`` uses ``checks.describe``: changing describe must change the version."""
    parts = toolkit_parts(tmp_path, "from autograder.toolkit.tensors import as_tensor\n")
    assert "def as_tensor" in parts["toolkit/tensors.py:used"]
    assert "def describe" in parts["toolkit/checks.py:used"]
    assert "def expect_float" not in parts["toolkit/checks.py:used"]
