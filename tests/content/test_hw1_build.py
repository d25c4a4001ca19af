"""The generated HW1 files are in sync with the master, and the build is reproducible."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from hw1_helpers import BUILD_SCRIPT, HW1, MASTER, REFERENCE, REPO, SPEC_NAMES, STUDENT_NB

GENERATED = [STUDENT_NB, REFERENCE]
GENERATED_IDS = ["student-notebook", "reference"]


@pytest.mark.parametrize("path", GENERATED, ids=GENERATED_IDS)
def test_committed_file_matches_master(built, path):
    """The committed generated file is byte-identical to what the master produces now."""
    assert path in built.outputs, f"the build does not produce {path}"
    committed = path.read_text(encoding="utf-8")
    assert committed == built.outputs[path], (
        f"{path.relative_to(REPO)} is stale: run `python solutions/build.py {HW1}`"
    )


def test_rebuild_is_byte_identical(build_module, built):
    """Building twice gives the same bytes (no random cell ids, timestamps or outputs)."""
    again = build_module.build(HW1, REPO)
    assert again == built.outputs


def test_check_command_passes_on_the_repository(tmp_path):
    """`python solutions/build.py --check hw1` exits 0 when everything is in sync (run from
    another directory: the script finds the repository and its sibling module by path)."""
    proc = subprocess.run(
        [sys.executable, str(BUILD_SCRIPT), "--check", HW1],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "up to date" in proc.stdout


def _copy_tree(root):
    for path in [MASTER, MASTER.with_name("assignment.toml"), *GENERATED]:
        target = root / path.relative_to(REPO)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)


def _append_line(path):
    path.write_text(path.read_text(encoding="utf-8") + "# edited by hand\n", encoding="utf-8")


def _edit_master_markdown(path):
    import nbformat

    nb = nbformat.read(path, as_version=4)
    md = next(c for c in nb.cells if c.cell_type == "markdown")
    md.source += "\n\nA sentence added to the master."
    nbformat.write(nb, path)


TAMPERINGS = [
    ("student-notebook-edited", STUDENT_NB, _append_line),
    ("reference-edited", REFERENCE, _append_line),
    ("reference-missing", REFERENCE, lambda p: p.unlink()),
    ("master-changed", MASTER, _edit_master_markdown),
]


@pytest.mark.parametrize(
    "which, tamper", [(t[1], t[2]) for t in TAMPERINGS], ids=[t[0] for t in TAMPERINGS]
)
def test_check_fails_when_generated_files_are_stale(build_module, tmp_path, capsys, which, tamper):
    """--check exits 1, names the stale file and the rebuild command, and writes nothing."""
    _copy_tree(tmp_path)
    tamper(tmp_path / which.relative_to(REPO))
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}

    status = build_module.main(["--check", "--root", str(tmp_path), HW1])

    err = capsys.readouterr().err
    assert status == 1
    assert "out of date" in err
    assert "python solutions/build.py hw1" in err
    stale = STUDENT_NB if which == MASTER else which
    assert stale.relative_to(REPO).as_posix() in err
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert after == before, "--check must not write files"


def test_build_rewrites_stale_files(build_module, tmp_path, capsys):
    """Without --check the build rewrites stale files, after which --check passes."""
    _copy_tree(tmp_path)
    _append_line(tmp_path / REFERENCE.relative_to(REPO))
    assert build_module.main(["--root", str(tmp_path), HW1]) == 0
    assert build_module.main(["--check", "--root", str(tmp_path), HW1]) == 0
    assert (tmp_path / REFERENCE.relative_to(REPO)).read_text() == REFERENCE.read_text()
    capsys.readouterr()


SOLUTION_CELL = '''
def f(x):
    """doc"""
    # BEGIN SOLUTION NO PROMPT
    y = x + 1  # SOLUTION
    return y
    # END SOLUTION
    """ # BEGIN PROMPT
    # YOUR CODE HERE
    raise NotImplementedError
    """ # END PROMPT
'''


def test_solution_view_strips_otter_markers_and_prompts(build_module):
    """reference.py keeps the solution lines and drops markers, prompts and `# SOLUTION` tags."""
    lines = build_module.build_reference.solution_view(SOLUTION_CELL)
    assert lines == ["def f(x):", '    """doc"""', "    y = x + 1", "    return y"]


@pytest.mark.parametrize(
    "extra, message",
    [("print('hello')", "top-level Expr"), ("EXTRA = 1", "unexpected ['EXTRA']")],
    ids=["top-level-statement", "extra-name"],
)
def test_reference_validation_rejects_bad_solutions(build_module, extra, message):
    """A solution cell with side effects or names outside the spec fails the build."""
    text = "import numpy as np\n" + "\n".join(f"{n} = None" for n in SPEC_NAMES) + "\n" + extra
    with pytest.raises(
        build_module.BuildError, match=message.replace("[", r"\[").replace("]", r"\]")
    ):
        build_module.build_reference.validate_reference(text, HW1, tuple(SPEC_NAMES))


def test_reference_names_match_the_spec(build_module):
    """The manifest makes the build enforce exactly the spec's names for hw1."""
    manifest = build_module.read_manifest(build_module.Paths(HW1, REPO))
    assert set(manifest.reference_names) == set(SPEC_NAMES)


def test_master_points_match_the_manifest(build_module):
    """Points live in assignment.toml; the master's BEGIN QUESTION cells must agree."""
    import nbformat

    manifest = build_module.read_manifest(build_module.Paths(HW1, REPO))
    points = build_module.master_points(nbformat.read(MASTER, as_version=4))
    assert points == dict(manifest.questions)


def test_a_demonstration_that_changes_state_is_refused(build_module):
    """A cell tagged demo that seeds the global generator would change what later cells
    and the graders see when it is skipped: the build says so."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import numpy as np\nnp.random.seed(0)",
                                          metadata={"tags": ["demo"]})]
    with pytest.raises(build_module.BuildError, match="tagged demo, but it calls `seed`"):
        build_module.check_student_notebook(nbformat.writes(nb), "hw1")
    nb.cells[0].source = "import numpy as np\nprint(np.random.default_rng(0).random())"
    build_module.check_student_notebook(nbformat.writes(nb), "hw1")
