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
  master's ``# BEGIN SOLUTION`` blocks, with Otter's markers and prompt blocks removed.  The
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
import ast
import contextlib
import difflib
import pathlib
import re
import sys
import tempfile
import warnings

REPO = pathlib.Path(__file__).resolve().parent.parent

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


class BuildError(Exception):
    """The master notebook cannot be turned into valid assignment files."""


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
    for qid, test in nb.metadata.get("otter", {}).get("tests", {}).items():
        if re.search(r"hidden\s*=\s*True|['\"]hidden['\"]\s*:\s*True", str(test)):
            raise BuildError(f"{name}: question {qid!r} has a hidden test in the student notebook")


# --------------------------------------------------------------------------- reference module

_BLOCK_RE = re.compile(r"#\s+(begin|end)\s+(question|solution|tests|prompt)\b", re.IGNORECASE)
_SOLUTION_SUFFIX_RE = re.compile(r"\s*#\s?SOLUTION( NO PROMPT)?$")


def _solution_view(source: str) -> list[str]:
    """The solution lines of a master code cell, with Otter's markers and prompts removed."""
    lines, in_prompt, in_ignore = [], False, False
    for line in source.splitlines():
        s = line.rstrip()
        if in_prompt:
            in_prompt = not s.endswith("# END PROMPT")
            continue
        if in_ignore:
            in_ignore = not s.endswith("# END IGNORE")
            continue
        if s.endswith("# BEGIN PROMPT"):
            in_prompt = True
            continue
        if re.match(r"\s*#\s*BEGIN\s*IGNORE", s, re.IGNORECASE):
            in_ignore = True
            continue
        if re.fullmatch(r"\s*# (BEGIN SOLUTION( NO PROMPT)?|END SOLUTION)", s):
            continue
        if s.endswith(("# IGNORE", "# END PROMPT")):
            continue
        if s.endswith("# SEED"):
            s = s[: -len("# SEED")].rstrip()
        lines.append(_SOLUTION_SUFFIX_RE.sub("", s))
    while lines and not lines[-1].strip():
        lines.pop()
    while lines and not lines[0].strip():
        lines.pop(0)
    return lines


def solution_cells(master_nb) -> list[str]:
    """Sources of the code cells inside ``# BEGIN SOLUTION`` blocks, in notebook order."""
    stack: list[str] = []
    found = []
    for cell in master_nb.cells:
        first = cell.source.lstrip().splitlines()[0] if cell.source.strip() else ""
        m = _BLOCK_RE.match(first) if cell.cell_type == "raw" else None
        if m:
            kind, block = m.group(1).lower(), m.group(2).lower()
            if kind == "begin":
                stack.append(block)
            elif not stack or stack.pop() != block:
                raise BuildError(f"unbalanced '# END {block.upper()}' cell in the master notebook")
            continue
        if cell.cell_type == "code" and stack and stack[-1] == "solution":
            found.append(cell.source)
    if stack:
        raise BuildError(f"unclosed '# BEGIN {stack[-1].upper()}' block in the master notebook")
    return found


def generate_reference(
    master: pathlib.Path, name: str, rel_master: str, expected: tuple[str, ...] | None = None
) -> str:
    """Text of ``reference.py``: the master's solution code as a plain module.

    ``expected``: the names it must define, exactly (the manifest's ``reference_names``).
    """
    import nbformat

    nb = nbformat.read(master, as_version=4)
    cells = solution_cells(nb)
    if not cells:
        raise BuildError(f"{rel_master} has no code cells in '# BEGIN SOLUTION' blocks")
    header = [
        f"# GENERATED FILE - DO NOT EDIT. Reference solution of {name}, generated from",
        f"# {rel_master} by:",
        f"#     python solutions/build.py {name}",
        f"# (python solutions/build.py --check {name} fails when this file is stale.)",
        "# Instructor-only: never copy this file into assignments/.",
        f'"""Reference solution of {name} (generated from the master notebook)."""',
        "",
        "import numpy as np",
    ]
    if expected:
        header += ["", "__all__ = ["] + [f'    "{n}",' for n in sorted(expected)] + ["]"]
    body = []
    for source in cells:
        lines = _solution_view(source)
        lines = [ln for ln in lines if ln.strip() != "import numpy as np"]
        if lines:
            body += ["", ""] + lines
    text = "\n".join(header + body) + "\n"
    text = re.sub(r"\n{4,}", "\n\n\n", text)
    _validate_reference(text, name, expected)
    return text


def _validate_reference(text: str, name: str, expected: tuple[str, ...] | None) -> None:
    try:
        tree = ast.parse(text)
    except SyntaxError as e:
        raise BuildError(f"{name}: generated reference.py does not parse: {e}") from e
    defined, modules = set(), set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                for n in ast.walk(t):
                    if isinstance(n, ast.Name):
                        defined.add(n.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            modules.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            pass  # docstring
        else:
            raise BuildError(
                f"{name}: solution cells may only define functions and constants; found a "
                f"top-level {type(node).__name__} at line {node.lineno} of reference.py"
            )
    public = {n for n in defined if not n.startswith("_")}
    if expected is not None and public != set(expected):
        missing, extra = set(expected) - public, public - set(expected)
        raise BuildError(
            f"{name}: reference.py must define exactly {sorted(expected)}; "
            f"missing {sorted(missing)}, unexpected {sorted(extra)}"
        )


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
    reference = generate_reference(p.master, name, rel_master, manifest.reference_names)
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
