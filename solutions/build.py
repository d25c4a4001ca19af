#!/usr/bin/env python
"""Build the student notebook and the reference module of an assignment from its master.

Usage (from anywhere; paths are resolved against the repository root):

    python solutions/build.py hw1            # rewrite the generated files of hw1
    python solutions/build.py --check hw1    # exit 1 if the committed files are stale

The single source of an assignment NAME is ``solutions/NAME/NAME-master.ipynb``, written in
Otter Assign format (otter-grader 7).  From it this script generates

* ``assignments/NAME/NAME.ipynb``: the student notebook, produced by Otter Assign (solutions
  replaced by their prompts, public tests stored in the notebook metadata, an
  ``otter.Notebook("NAME.ipynb")`` init cell and ``grader.check`` cells), then normalized
  (no outputs, index-based cell ids, fixed notebook metadata, sorted JSON) so that rebuilding
  gives byte-identical files;
* ``solutions/NAME/reference.py``: a plain importable module made of the code cells of the
  master's ``# BEGIN SOLUTION`` blocks, with Otter's markers and prompt blocks removed
  (``solutions/build_reference.py``, loaded by path: ``solutions/`` is not a package).  The
  hidden graders import it in the trusted grading process; it never goes to students.

How the master is written (Otter Assign conventions used here):

* a raw ``# ASSIGNMENT CONFIG`` cell; raw ``# BEGIN QUESTION`` / ``# END QUESTION`` cells around
  each question (``name:`` is the question id, ``points:`` its points);
* solution code cells between raw ``# BEGIN SOLUTION`` / ``# END SOLUTION`` cells.  Inside a
  function, ``# BEGIN SOLUTION NO PROMPT`` ... ``# END SOLUTION`` removes the solution lines
  without leaving Otter's default ``...``, and a string literal opened on a line ending in
  ``# BEGIN PROMPT`` and closed on a line ending in ``# END PROMPT`` holds the lines students
  get instead (``# YOUR CODE HERE`` / ``raise NotImplementedError``); a line ending in
  ``# SOLUTION`` becomes ``name = ...`` for students;
* public tests between raw ``# BEGIN TESTS`` / ``# END TESTS`` cells, in Otter's
  exception-based format: one ``def test_...(names used):`` per cell (optionally followed by a
  call of it, which Otter drops).  Outputs saved in the master are ignored (the build clears
  them first), so tests must assert, not print.

Otter's own test run (it needs a Jupyter kernel) is disabled; ``tests/content`` executes the
notebooks instead.  Otter Assign runs on a temporary copy named ``NAME.ipynb``, so the init
cell of the student notebook reads ``otter.Notebook("NAME.ipynb")``.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import pathlib
import re
import sys
import tempfile
import warnings

from autograder.grading.catalog import load_module
from autograder.grading.demos import demo_problems

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
KEPT_CELL_METADATA = ("deletable", "editable", "tags")
MARKERS_FORBIDDEN_IN_STUDENT_NB = (
    "BEGIN SOLUTION",
    "END SOLUTION",
    "BEGIN PROMPT",
    "END PROMPT",
    "# SOLUTION",
    "BEGIN TESTS",
    "BEGIN QUESTION",
    "ASSIGNMENT CONFIG",
)


# the reference half of the build, by path: ``solutions/`` is not a package, and it is not on
# sys.path when the content tests load this file
build_reference = load_module(HERE / "build_reference.py", "build_reference")
BuildError = build_reference.BuildError


class Paths:
    """Where the files of assignment ``name`` live under the repository ``root``."""

    def __init__(self, name: str, root: pathlib.Path):
        self.name, self.root = name, root

    @property
    def master(self) -> pathlib.Path:
        return self.root / "solutions" / self.name / f"{self.name}-master.ipynb"

    @property
    def student_notebook(self) -> pathlib.Path:
        return self.root / "assignments" / self.name / f"{self.name}.ipynb"

    @property
    def reference(self) -> pathlib.Path:
        return self.root / "solutions" / self.name / "reference.py"

    @property
    def manifest(self) -> pathlib.Path:
        return self.root / "solutions" / self.name / "assignment.toml"


def read_manifest(p: Paths):
    """The assignment's manifest (``solutions/NAME/assignment.toml``), or BuildError."""
    from autograder.errors import GraderDefinitionError
    from autograder.grading.manifest import read_manifest as read

    if not p.manifest.is_file():
        raise BuildError(f"no manifest at {p.manifest} (see docs/adding-an-assignment.md)")
    try:
        return read(p.manifest)
    except GraderDefinitionError as e:
        raise BuildError(str(e)) from e


_QUESTION_RE = re.compile(r"#\s*BEGIN\s+QUESTION\b(.*)", re.IGNORECASE | re.DOTALL)


def master_points(master_nb) -> dict[str, float]:
    """Question name -> points, from the master's ``# BEGIN QUESTION`` cells (Otter's YAML)."""
    import yaml

    found = {}
    for cell in master_nb.cells:
        m = _QUESTION_RE.match(cell.source.strip()) if cell.cell_type == "raw" else None
        if m:
            config = yaml.safe_load(m.group(1)) or {}
            found[str(config.get("name"))] = float(config.get("points", 0) or 0)
    return found


def check_points(master: pathlib.Path, manifest, name: str) -> None:
    """The master's questions and points are the manifest's (one source of truth, checked)."""
    import nbformat

    points = master_points(nbformat.read(master, as_version=4))
    if points != dict(manifest.questions):
        raise BuildError(
            f"{name}: the master's questions {points} differ from assignment.toml's "
            f"{dict(manifest.questions)}"
        )


# --------------------------------------------------------------------------- Otter Assign


@contextlib.contextmanager
def _temporary_tempdir(path: pathlib.Path):
    """Point tempfile at ``path`` (Otter Assign leaves a mkdtemp() directory behind)."""
    old = tempfile.tempdir
    tempfile.tempdir = str(path)
    try:
        yield
    finally:
        tempfile.tempdir = old


@contextlib.contextmanager
def _quiet_dependencies():
    """Silence DeprecationWarnings that otter's dependencies raise on import and use
    (e.g. traitlets/ipywidgets), so the build also works under ``-W error``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        yield


def run_otter_assign(master: pathlib.Path, name: str, workdir: pathlib.Path) -> pathlib.Path:
    """Run Otter Assign on a clean copy of ``master``; return its output directory.

    The output directory holds ``student/NAME.ipynb`` and ``autograder/NAME.ipynb`` (the latter
    keeps the solutions and is only used by the content tests).
    """
    import nbformat

    with _quiet_dependencies():
        from otter.assign import main as otter_assign

    src_dir, out_dir, tmp = workdir / "src", workdir / "dist", workdir / "tmp"
    for d in (src_dir, tmp):
        d.mkdir(parents=True, exist_ok=True)
    nb = nbformat.read(master, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    copy = src_dir / f"{name}.ipynb"
    nbformat.write(nb, copy)
    with _temporary_tempdir(tmp), _quiet_dependencies():
        otter_assign(str(copy), str(out_dir), no_pdfs=True, no_run_tests=True)
    if not (out_dir / "student" / f"{name}.ipynb").is_file():
        raise BuildError(f"Otter Assign wrote no student notebook for {master}")
    return out_dir


def normalize_notebook(path: pathlib.Path, name: str) -> str:
    """The notebook at ``path`` as deterministic nbformat-4.5 JSON text."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    metadata = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    if "otter" in nb.metadata:
        metadata["otter"] = nb.metadata["otter"]
    nb.metadata = nbformat.from_dict(metadata)
    nb.nbformat, nb.nbformat_minor = 4, 5
    for i, cell in enumerate(nb.cells):
        cell.id = f"{name}-{i:03d}"
        cell.metadata = nbformat.from_dict(
            {k: cell.metadata[k] for k in KEPT_CELL_METADATA if k in cell.metadata}
        )
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.validate(nb)
    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


def check_student_notebook(text: str, name: str) -> None:
    """Refuse a student notebook that still carries solution markers or hidden tests."""
    import nbformat

    nb = nbformat.reads(text, as_version=4)
    for cell in nb.cells:
        for marker in MARKERS_FORBIDDEN_IN_STUDENT_NB:
            if marker in cell.source:
                raise BuildError(f"{name}: student notebook cell {cell.id} contains {marker!r}")
    for cell in nb.cells:
        if cell.cell_type == "code" and "demo" in cell.metadata.get("tags", ()):
            for problem in demo_problems(cell.source):
                raise BuildError(f"{name}: cell {cell.id} is tagged demo, but {problem}; a "
                                 "demonstration may only draw, print and bind names "
                                 "(docs/adding-an-assignment.md)")
    for qid, test in nb.metadata.get("otter", {}).get("tests", {}).items():
        if re.search(r"hidden\s*=\s*True|['\"]hidden['\"]\s*:\s*True", str(test)):
            raise BuildError(f"{name}: question {qid!r} has a hidden test in the student notebook")


# --------------------------------------------------------------------------- build / check


def build(name: str, root: pathlib.Path = REPO, keep: pathlib.Path | None = None):
    """Generate the files of assignment ``name``.

    Returns ``{path: text}`` for the generated files (not written).  With ``keep``, Otter's
    output directory (student and autograder notebooks) is left in ``keep``.
    """
    p = Paths(name, root)
    if not p.master.is_file():
        raise BuildError(f"no master notebook at {p.master}")
    manifest = read_manifest(p)
    check_points(p.master, manifest, name)
    rel_master = p.master.relative_to(root).as_posix()
    with tempfile.TemporaryDirectory(prefix=f"build-{name}-") as tmp:
        workdir = keep if keep is not None else pathlib.Path(tmp)
        out = run_otter_assign(p.master, name, workdir)
        student = normalize_notebook(out / "student" / f"{name}.ipynb", name)
    check_student_notebook(student, name)
    reference = build_reference.generate_reference(
        p.master, name, rel_master, manifest.reference_names
    )
    return {p.student_notebook: student, p.reference: reference}


def _diff(path: pathlib.Path, new: str, root: pathlib.Path, limit: int = 30) -> str:
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    rel = path.relative_to(root).as_posix()
    lines = list(
        difflib.unified_diff(
            old.splitlines(),
            new.splitlines(),
            f"{rel} (committed)",
            f"{rel} (from master)",
            lineterm="",
            n=1,
        )
    )
    more = f"\n    ... {len(lines) - limit} more diff lines" if len(lines) > limit else ""
    return "\n".join("    " + ln for ln in lines[:limit]) + more


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Build assignments/NAME/NAME.ipynb and solutions/NAME/reference.py from "
        "solutions/NAME/NAME-master.ipynb (Otter Assign)."
    )
    parser.add_argument("names", nargs="+", metavar="NAME", help="assignment, e.g. hw1")
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if the committed files differ from what the master produces",
    )
    parser.add_argument("--root", type=pathlib.Path, default=REPO, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    root = args.root.resolve()

    status = 0
    for name in args.names:
        try:
            outputs = build(name, root)
        except BuildError as e:
            print(f"build.py: error: {e}", file=sys.stderr)
            return 2
        stale = []
        for path, text in outputs.items():
            current = path.read_text(encoding="utf-8") if path.exists() else None
            if current == text:
                continue
            if args.check:
                stale.append(path)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8", newline="\n")
                print(f"wrote {path.relative_to(root).as_posix()}")
        if args.check and stale:
            status = 1
            master = Paths(name, root).master.relative_to(root).as_posix()
            print(f"build.py --check: {name} is out of date with {master}:", file=sys.stderr)
            for path in stale:
                what = "missing" if not path.exists() else "differs"
                print(f"  {path.relative_to(root).as_posix()} {what}", file=sys.stderr)
                if path.exists():
                    print(_diff(path, outputs[path], root), file=sys.stderr)
            print(f"Run: python solutions/build.py {name}", file=sys.stderr)
        elif args.check:
            print(f"{name}: up to date")
        elif not args.check and all(p.read_text(encoding="utf-8") == t for p, t in outputs.items()):
            print(f"{name}: built ({len(outputs)} files up to date)")
    return status


if __name__ == "__main__":
    sys.exit(main())
