"""``python -m autograder check NOTEBOOK``: a notebook's public checks, outside Jupyter.

The notebook's cells run top to bottom in the shell grading uses
(``kernel_shell``: Jupyter's semantics, the same notes for what is skipped),
with the grader's per-cell and total time limits, then otter-grader runs each
public test (what ``grader.check(q)`` runs in Jupyter). The tests come from the
notebook's own otter metadata or, when it has none (code pasted into a fresh
or Colab notebook), from the assignment's public notebook
(``assignments/NAME/*.ipynb``): named with ``--assignment`` or recognised by
the functions the notebook defines.

This is the student's own code on the student's own machine, checked for the
student: it runs in this process, as the user, *without* the sandbox (which
would protect nothing here, and costs seconds: bubblewrap, a warm-up process,
an interpreter per check). Its verdicts are shown to whoever ran it and never
used for grading. Do not run it on someone else's notebook; ``grade`` does that.

The notebook sees the assignment's public data files (``assignments/NAME/``)
when this checkout has the assignment, else the data files next to the
notebook (a student's copy: "keep digits.npz next to it"), in a temporary
working folder that is removed afterwards.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import importlib.util
import io
import json
import os
import re
import signal
import sys
import tempfile
import time
import types
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import AutograderError, SubmissionError, UnknownAssignment
from ..grading.catalog import MAX_PUBLIC_FILE_BYTES, PROJECT_ROOT, Assignment
from ..intake.notebook import Cell, InvalidNotebook, read_notebook

MAX_SIBLING_FILES = 20
OUTPUT_KEPT = 4096
CELL_SECONDS = 10.0
TOTAL_SECONDS = 120.0
CHECK_CALL = re.compile(r"""grader\.check\(\s*["'](\w+)["']""")
RECOGNISED_SHARE = 0.5  # a notebook defining half an assignment's questions is that assignment's
HIDDEN_NOTE = ("These are the public checks only: they catch common mistakes. Your grade "
               "comes from hidden tests with fresh random inputs, so passing here does not "
               "guarantee full marks.")


@dataclass(frozen=True, slots=True)
class QuestionCheck:
    question: str
    passed: bool
    output: str


@dataclass(frozen=True, slots=True)
class CheckReport:
    notebook: Path
    assignment: str | None
    questions: tuple[QuestionCheck, ...]
    cells: tuple[str, ...]
    warnings: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return bool(self.questions) and all(q.passed for q in self.questions)


@dataclass(frozen=True, slots=True)
class PublicTests:
    """Where the public tests are: a notebook whose otter metadata holds them, and their order."""

    notebook: Path
    assignment: str | None
    questions: tuple[str, ...]
    note: str = ""


# ----------------------------------------------------------------------------- which tests


def _otter_metadata(path: Path) -> tuple[dict[str, Any], list[str]]:
    """The notebook's otter metadata and its cells' sources ({} and [] if unreadable)."""
    try:
        raw = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (OSError, ValueError):
        return {}, []
    raw = raw if isinstance(raw, dict) else {}
    metadata = raw.get("metadata")
    otter = metadata.get("otter") if isinstance(metadata, dict) else None
    cells = raw.get("cells")
    cells = cells if isinstance(cells, list) else []
    sources = [c.get("source", "") for c in cells if isinstance(c, dict)]
    sources = ["".join(map(str, s)) if isinstance(s, list) else str(s) for s in sources]
    return (otter if isinstance(otter, dict) else {}), sources


def _questions(path: Path) -> tuple[str, ...]:
    """The notebook's test names, in the order its ``grader.check`` cells call them."""
    otter, sources = _otter_metadata(path)
    tests = otter.get("tests")
    known = [q for q in tests if isinstance(q, str)] if isinstance(tests, dict) else []
    called = [q for source in sources for q in CHECK_CALL.findall(source) if q in known]
    return tuple(dict.fromkeys(called + known))


def public_tests(path: Path, cells: Sequence[Cell], assignment_name: str | None) -> PublicTests:
    """The notebook's own public tests, else its assignment's; SubmissionError if neither."""
    questions = _questions(path)
    recorded = _otter_metadata(path)[0].get("assignment_name")
    if questions:
        return PublicTests(path, assignment_name or (recorded if isinstance(recorded, str)
                                                     else None), questions)
    if assignment_name:
        source = _assignment_notebook(assignment_name)
        if source is None:
            raise SubmissionError(f"{path}: the notebook has no public checks (no otter tests in "
                                  f"its metadata), and assignment {assignment_name!r} has no "
                                  "public notebook with them here")
        return PublicTests(source, assignment_name, _questions(source),
                           f"the notebook has no otter metadata; used the public checks of "
                           f"{assignment_name}")
    recognised = _recognise(cells)
    if recognised is None:
        raise SubmissionError(f"{path}: the notebook has no public checks (no otter tests in its "
                              "metadata); is it the course's notebook? Name its assignment with "
                              "--assignment")
    name, source = recognised
    return PublicTests(source, name, _questions(source),
                       f"the notebook has no otter metadata; it defines {name}'s functions, so "
                       f"{name}'s public checks were used")


def _assignment_notebook(name: str) -> Path | None:
    """The assignment's public notebook that carries otter tests, if this checkout has it."""
    folder = PROJECT_ROOT / "assignments" / name
    if not folder.is_dir():
        return None
    for candidate in sorted(folder.glob("*.ipynb")):
        if _questions(candidate):
            return candidate
    return None


def _recognise(cells: Sequence[Cell]) -> tuple[str, Path] | None:
    """The one assignment most of whose questions the notebook defines (by name), if any."""
    defined = set()
    for cell in cells:
        with contextlib.suppress(SyntaxError, ValueError):
            for node in ast.walk(ast.parse(cell.source)):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    defined.add(node.name)
                elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    defined.add(node.id)
    best: tuple[float, str, Path] | None = None
    for folder in sorted((PROJECT_ROOT / "assignments").glob("*/")):
        source = _assignment_notebook(folder.name)
        if source is None:
            continue
        questions = _questions(source)
        share = len(defined & set(questions)) / max(len(questions), 1)
        if share >= RECOGNISED_SHARE and (best is None or share > best[0]):
            best = (share, folder.name, source)
    return None if best is None else (best[1], best[2])


def _public_files(name: str | None, notebook: Path) -> list[Path]:
    """The assignment's public data files if this checkout has them, else the notebook's neighbours."""
    if name:
        try:
            return Assignment.find(name).public_files
        except UnknownAssignment:
            pass
    siblings = sorted(p for p in notebook.resolve().parent.iterdir()
                      if p.is_file() and p.suffix != ".ipynb" and not p.name.startswith(".")
                      and p.stat().st_size <= MAX_PUBLIC_FILE_BYTES)
    return siblings[:MAX_SIBLING_FILES]


# ----------------------------------------------------------------------------- running


def check_notebook(path: Path, assignment_name: str | None = None,
                   cell_seconds: float = CELL_SECONDS,
                   total_seconds: float = TOTAL_SECONDS) -> CheckReport:
    """Run the notebook here, then each public check; never raises for the notebook's code."""
    try:
        notebook = read_notebook(path)
    except InvalidNotebook as exc:
        raise SubmissionError(f"{path}: {exc}") from None
    path = path.resolve()
    tests = public_tests(path, notebook.cells, assignment_name)
    warnings = list(notebook.warnings) + ([tests.note] if tests.note else [])
    from ..grading.cells import CellOutcome, cell_report
    from ..inside import kernel_shell

    test_file = _otter_test_file()
    shell = kernel_shell.make_shell()
    kernel_shell.import_from_working_folder()
    deadline = time.monotonic() + total_seconds
    outcomes, results = [], []
    with _working_folder(_public_files(tests.assignment, path)):
        for cell in notebook.cells:
            status, error, _ = _run(shell, cell.source, min(cell_seconds,
                                                            deadline - time.monotonic()))
            outcomes.append(CellOutcome(cell.index, status, *error,
                                        notes=tuple(kernel_shell.take_notes())))
        for question in tests.questions:
            passed, output = _run_test(test_file, tests.notebook, question, shell.user_ns,
                                       cell_seconds)
            results.append(QuestionCheck(question, passed, output))
    return CheckReport(path, tests.assignment, tuple(results), cell_report(outcomes),
                       tuple(warnings))


def _run(shell: Any, source: str, seconds: float) -> tuple[str, tuple[str, str], str]:
    """Run one cell with a time limit (an interrupt, as Jupyter's button); status and output."""
    if seconds <= 0:
        return "skipped", ("", "the notebook's total time ran out"), ""
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), _alarm(seconds):
        try:
            result = shell.run_cell(source, store_history=False)
            error = result.error_before_exec or result.error_in_exec
        except KeyboardInterrupt as exc:
            error = exc
    if isinstance(error, KeyboardInterrupt):
        return "interrupted", ("", ""), sink.getvalue()
    if error is not None:
        return "error", (type(error).__name__[:80], str(error)[:500]), sink.getvalue()
    return "ok", ("", ""), sink.getvalue()


def _run_test(test_file: Any, notebook: Path, question: str, env: dict[str, Any],
              seconds: float) -> tuple[bool, str]:
    """One public test by otter-grader, as ``grader.check(question)`` runs it in Jupyter."""
    create_test_file, config = test_file
    sink = io.StringIO()
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), \
                _alarm(seconds):
            test = create_test_file(str(notebook), config(notebook), test_name=question)
            test.run(env)
        return bool(test.passed_all), str(test).strip()
    except KeyboardInterrupt:
        return False, f"the check of {question} did not finish in {seconds:g} s"
    except Exception as exc:  # noqa: BLE001 - the student's code may raise anything
        return False, f"the check of {question} could not run: {type(exc).__name__}: {exc}"


def _otter_test_file() -> tuple[Any, Any]:
    """otter-grader's test runner: ``create_test_file`` and a metadata reader.

    Imported without otter's package ``__init__`` (it loads otter's exporters,
    nbconvert and more: about a second) when otter's layout allows it; the
    package then also offers a no-op ``otter.Notebook`` for a student's own
    ``grader = otter.Notebook(...)``.
    """
    if "otter" not in sys.modules:
        spec = importlib.util.find_spec("otter")
        if spec is not None and spec.submodule_search_locations:
            package = types.ModuleType("otter")
            package.__path__ = list(spec.submodule_search_locations)
            package.__spec__ = spec
            package.Notebook = _NoOpNotebook  # type: ignore[attr-defined]
            sys.modules["otter"] = package
    try:
        from otter.nbmeta_config import NBMetadataConfig
        from otter.test_files import create_test_file
    except ImportError:  # another otter layout: the whole package, slower
        for name in [n for n in sys.modules if n == "otter" or n.startswith("otter.")]:
            del sys.modules[name]
        from otter.nbmeta_config import NBMetadataConfig
        from otter.test_files import create_test_file
    import nbformat

    def config(notebook: Path) -> Any:
        return NBMetadataConfig.from_notebook(nbformat.read(notebook, nbformat.NO_CONVERT))

    return create_test_file, config


class _NoOpNotebook:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


@contextlib.contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    """Interrupt the main thread (KeyboardInterrupt) after ``seconds``."""
    def interrupt(*_args: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.001))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def _working_folder(public_files: list[Path]) -> Iterator[None]:
    """A temporary working folder holding links to the public files, as the sandbox's home."""
    before = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="autograder-check-") as folder:
        for path in public_files:
            with contextlib.suppress(OSError):
                os.symlink(path.resolve(), Path(folder) / path.name)
        os.chdir(folder)
        try:
            yield
        finally:
            os.chdir(before)


# ----------------------------------------------------------------------------- command line


def render(report: CheckReport) -> str:
    """The text a student reads after ``check``: one block per question, then the caveat."""
    lines = [f"Public checks of {report.notebook.name}"
             + (f" ({report.assignment})" if report.assignment else "") + ":", ""]
    lines += [f"WARNING: {w}" for w in report.warnings]
    for cell in report.cells:
        lines.append(f"Note: {cell}")
    for question in report.questions:
        lines.append(f"{'PASSED' if question.passed else 'FAILED'}  {question.question}")
        if not question.passed:
            lines += ["    " + line for line in question.output.splitlines()]
    passed = sum(q.passed for q in report.questions)
    lines += ["", f"{passed} of {len(report.questions)} questions pass their public checks.",
              HIDDEN_NOTE]
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("notebook", type=Path, help="the .ipynb to check")
    parser.add_argument("--assignment", default=None,
                        help="the assignment (default: the one recorded in the notebook, or "
                             "recognised by its functions)")
    parser.add_argument("--cell-timeout", type=_seconds, default=CELL_SECONDS, metavar="SECONDS",
                        help=f"interrupt a cell, or a check, that runs longer (default "
                             f"{CELL_SECONDS:g}; the TA's grading has its own limits)")
    parser.add_argument("--no-warm", action="store_true",
                        help="run in this process only: neither use nor start the check server "
                             "that answers later checks quickly (also AUTOGRADER_CHECK_WARM=0)")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= TOTAL_SECONDS:
        raise argparse.ArgumentTypeError(f"{text!r}: a number of seconds, above 0 and at most "
                                         f"{TOTAL_SECONDS:g}")
    return value


def main(argv: Sequence[str]) -> int:
    """``check``'s own entry point: it imports nothing of grading, so it starts fast.

    It runs here; ``python -m autograder check`` first asks this user's warm check
    server (``check_warm``), which runs this same function in a child.
    """
    parser = argparse.ArgumentParser(
        prog="python -m autograder check",
        description="Run the notebook, then its public (otter) checks. Exit 0 when every public "
                    "check passes, 1 otherwise, 2 when it is not a notebook with public checks.")
    add_arguments(parser)
    args = parser.parse_args(argv)  # --no-warm: already honoured by check_warm.attempt
    try:
        report = check_notebook(args.notebook, args.assignment, args.cell_timeout)
    except (AutograderError, ValueError) as exc:
        print(f"autograder: error: {exc}")
        return 2
    print(render(report))
    return 0 if report.passed else 1
