"""Finding an assignment's pieces, its manifest, and the version that decides when to regrade."""

from __future__ import annotations

import ast
import re
import shutil

import pytest

from autograder.errors import GraderDefinitionError, UnknownAssignment
from autograder.grading.catalog import PROJECT_ROOT, Assignment
from autograder.grading.versions import engine_files

ENGINE_DIRS = ("autograder", "course")
COURSE_WORK = re.compile(r"hw\d")


def test_hw1_pieces_and_questions():
    hw1 = Assignment.find("hw1")
    assert hw1.grader.name == "graders.py" and hw1.reference.name == "reference.py"
    assert hw1.grader.parent == hw1.reference.parent == PROJECT_ROOT / "solutions" / "hw1"
    assert [p.name for p in hw1.public_files] == ["digits.npz"]
    assert list(hw1.questions) == ["perceptron", "sigmoid", "neural_network", "mean_squared_error",
                                   "sigmoid_cross_entropy", "softmax", "softmax_cross_entropy"]
    assert hw1.max_score == 100


@pytest.mark.parametrize("name, message", [("hw99", "no assignment 'hw99'"),
                                           ("../etc", "is not an assignment name")],
                         ids=["unknown", "path"])
def test_bad_names_are_refused(name, message):
    with pytest.raises(UnknownAssignment, match=message):
        Assignment.find(name)


def code_mentions(path) -> list[tuple[int, str]]:
    """``(line, text)`` of every string constant or name in a module's code (not docstrings,
    comments or help examples "e.g. ..."), or of every non-comment line of a TOML/INI file."""
    text = path.read_text()
    if path.suffix != ".py":
        return [(n, line.split("#")[0]) for n, line in enumerate(text.splitlines(), start=1)]
    tree = ast.parse(text)
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef
                                | ast.AsyncFunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and id(node) not in docstrings and "e.g." not in node.value:
            found.append((node.lineno, node.value))
        elif isinstance(node, ast.Name | ast.arg | ast.Attribute):
            found.append((node.lineno, getattr(node, "id", None) or getattr(node, "arg", None)
                          or node.attr))
    return found


def test_the_engine_names_no_assignment():
    """No code in the engine packages knows an assignment by name.

    Allowed: docstrings, comments and help examples ("e.g. 'hw1'").
    """
    offenders = [f"{path.relative_to(PROJECT_ROOT)}:{line}: {text!r}"
                 for folder in ENGINE_DIRS
                 for path in sorted((PROJECT_ROOT / folder).rglob("*"))
                 if path.is_file() and path.suffix in (".py", ".toml", ".ini")
                 for line, text in code_mentions(path) if COURSE_WORK.search(text)]
    assert offenders == []


def test_the_scan_sees_code_but_not_docs(tmp_path):
    module = tmp_path / "m.py"
    module.write_text('"""Docs may say hw1."""\n# so may comments: hw2\n'
                      'def f(x):\n    """hw3 too."""\n    return x == "hw4"\n')
    assert [text for _, text in code_mentions(module) if COURSE_WORK.search(text)] == ["hw4"]


def make_assignment(root, manifest="[questions]\nq = 1\n"):
    for folder in ("solutions/hw9", "assignments/hw9"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "solutions/hw9/assignment.toml").write_text(manifest)
    (root / "solutions/hw9/graders.py").write_text("from autograder.toolkit.checks import as_float\n")
    (root / "solutions/hw9/reference.py").write_text("x = 1\n")
    return root


def test_version_changes_with_the_reference(tmp_path):
    root = make_assignment(tmp_path)
    before = Assignment.find("hw9", root).version
    (root / "solutions/hw9/reference.py").write_text("x = 2\n")
    assert Assignment.find("hw9", root).version != before


def test_version_changes_with_the_manifest(tmp_path):
    root = make_assignment(tmp_path)
    before = Assignment.find("hw9", root).version
    make_assignment(root, "[questions]\nq = 2\n")
    assert Assignment.find("hw9", root).version != before


def test_engine_part_of_the_version_follows_the_imports(tmp_path):
    """The grading engine is in; exports and the CLI are not; the toolkit only as used."""
    grader = tmp_path / "graders.py"
    grader.write_text("from autograder.toolkit.checks import as_float\n")
    labels = [label for label, _ in engine_files(grader)]
    assert {"grading/grade.py", "inside/worker.py", "inside/protocol.py", "grading/session.py",
            "sandbox/box.py"} <= set(labels)
    assert not {"cli.py", "batch/run.py", "gradebook/store.py", "gradebook/feedback.py",
                "bundle.py"} & set(labels)
    assert "toolkit/checks.py:used" in labels and "toolkit/cases.py:used" not in labels


def test_a_toolkit_helper_a_grader_does_not_use_changes_nothing(tmp_path):
    engine = tmp_path / "autograder"
    shutil.copytree(PROJECT_ROOT / "autograder", engine)
    grader = tmp_path / "graders.py"
    grader.write_text("from autograder.toolkit.checks import as_float\n")
    before = dict(engine_files(grader, engine))
    checks = engine / "toolkit" / "checks.py"
    checks.write_text(checks.read_text() + "\n\ndef brand_new_helper():\n    return 1\n")
    assert dict(engine_files(grader, engine)) == before
    checks.write_text(checks.read_text().replace("expected a float", "expected a real float"))
    assert dict(engine_files(grader, engine)) != before


@pytest.mark.parametrize("manifest, message", [
    ("", "questions: a \\[questions\\] table"),
    ("[questions]\nq = -1\n", "questions.q: points must be a positive"),
    ("[questions]\nq = 1\n[limits]\nwall = 3\n", "limits.wall: not a limit"),
    ("[questions]\nq = 1\n[limits]\ncpu_seconds = 1.5\n", "limits.cpu_seconds: must be a positive int"),
    ("data = ['../x']\n[questions]\nq = 1\n", "data: a list of plain file names"),
    ("colour = 'red'\n[questions]\nq = 1\n", "colour: unknown key"),
    ("[questions\n", "cannot read the manifest"),
], ids=["no-questions", "points", "limit", "int-limit", "data", "key", "toml"])
def test_a_bad_manifest_names_file_and_key(tmp_path, manifest, message):
    root = make_assignment(tmp_path, manifest)
    with pytest.raises(GraderDefinitionError, match=message):
        Assignment.find("hw9", root)


def test_manifest_limits_are_defaults_flags_win(tmp_path):
    root = make_assignment(tmp_path, "[questions]\nq = 1\n[limits]\nsubmission_seconds = 300\n"
                                     "cpu_seconds = 200\n[budgets]\ntrain = 60\n")
    hw9 = Assignment.find("hw9", root)
    assert hw9.limits().submission_seconds == 300 and hw9.limits().cpu_seconds == 200
    assert hw9.limits(cpu_seconds=90, call_seconds=None).cpu_seconds == 90
    assert hw9.budgets == {"train": 60.0}


def test_a_missing_data_file_is_named(tmp_path):
    root = make_assignment(tmp_path, "data = ['digits.npz']\n[questions]\nq = 1\n")
    with pytest.raises(GraderDefinitionError, match="'digits.npz' is not in"):
        Assignment.find("hw9", root).public_files  # noqa: B018


def test_extra_packages_are_declared_in_the_manifest_and_missing_ones_named(tmp_path):
    root = make_assignment(tmp_path, "packages = ['numpy>=1.0', 'surely-not-installed-pkg>=1', "
                                     "'numpy<1.0']\n[questions]\nq = 1\n")
    hw9 = Assignment.find("hw9", root)
    assert hw9.packages == ("numpy>=1.0", "surely-not-installed-pkg>=1", "numpy<1.0")
    assert hw9.missing_packages() == ["surely-not-installed-pkg>=1", "numpy<1.0"]
    assert Assignment.find("hw1").packages == () and Assignment.find("hw1").missing_packages() == []


@pytest.mark.parametrize("packages", ["'numpy'", "['not a requirement!!']", "[3]"])
def test_bad_package_declarations_name_the_key(tmp_path, packages):
    root = make_assignment(tmp_path, f"packages = {packages}\n[questions]\nq = 1\n")
    with pytest.raises(GraderDefinitionError, match="packages: a list of pip requirements"):
        Assignment.find("hw9", root)
