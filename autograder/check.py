"""``python -m autograder check NOTEBOOK``: a student's public checks, outside Jupyter.

The notebook runs in the same sandbox as grading, then otter-grader runs the
public tests stored in the notebook (``grader.check(q)`` for each question).
These are the student's own checks, so their verdicts come from the student's
process and are only shown back to the student; grading never uses them.

The notebook sees the assignment's public data files (``assignments/NAME/``)
when this checkout has the assignment, else the data files next to the
notebook (a student's copy: "keep digits.npz next to it").
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .catalog import MAX_PUBLIC_FILE_BYTES, Assignment
from .errors import SubmissionError, UnknownAssignment
from .notebook import Cell, InvalidNotebook, read_notebook
from .sandbox import Limits
from .session import StudentSession

SENTINEL = "__AUTOGRADER_CHECK__"
CHECK_CALL = re.compile(r"""grader\.check\(\s*["'](\w+)["']""")
MAX_SIBLING_FILES = 20
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


def public_questions(path: Path) -> tuple[str | None, list[str]]:
    """The assignment name and question ids recorded in the notebook by Otter Assign."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            node = nbformat.read(path, as_version=4)
        except Exception as exc:  # noqa: BLE001 - nbformat raises many kinds
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
            raise SubmissionError(f"{path}: not a readable notebook ({reason})") from None
    otter = node.metadata.get("otter", {})
    tests = otter.get("tests", {}) if isinstance(otter, dict) else {}
    name = otter.get("assignment_name") if isinstance(otter, dict) else None
    known = [q for q in tests if isinstance(q, str)]
    in_notebook_order = [q for cell in node.cells if cell.get("cell_type") == "code"
                         for q in CHECK_CALL.findall(str(cell.get("source", ""))) if q in known]
    ordered = list(dict.fromkeys(in_notebook_order + known))
    return (name if isinstance(name, str) else None), ordered


def check_notebook(path: Path, assignment_name: str | None = None,
                   limits: Limits | None = None) -> CheckReport:
    """Run the notebook in the sandbox, then each public check; never raises for its code."""
    try:
        notebook = read_notebook(path)
    except InvalidNotebook as exc:
        raise SubmissionError(f"{path}: {exc}") from None
    recorded, questions = public_questions(path)
    name = assignment_name or recorded
    if not questions:
        raise SubmissionError(f"{path}: the notebook has no public checks (no otter tests in its "
                              "metadata); is it the course's notebook?")
    public_files = _public_files(name, path)
    session = StudentSession(notebook.cells, [*public_files, path.resolve()],
                             limits or _limits(name), real_otter=True)
    results = []
    with session:
        outcomes = session.start()
        for number, question in enumerate(questions):
            source = (f"__ag_check = __import__('otter').Notebook({path.name!r}).check({question!r})\n"
                      f"print(__ag_check)\nprint('{SENTINEL}', bool(__ag_check.passed_all))")
            outcome = session.run_extra(Cell(index=10_000 + number, source=source))
            text = outcome.output
            passed = outcome.status == "ok" and f"{SENTINEL} True" in text
            shown = text.split(SENTINEL)[0].strip() or outcome.describe()
            results.append(QuestionCheck(question, passed, shown))
    cells = tuple(o.describe() for o in outcomes if o.status != "ok")
    return CheckReport(path, name, tuple(results), cells, tuple(notebook.warnings) +
                       tuple(session.warnings))


def _limits(name: str | None) -> Limits:
    """The assignment's limits (its manifest's) if this checkout has it, else the defaults."""
    if name:
        try:
            return Assignment.find(name).limits()
        except UnknownAssignment:
            pass
    return Limits()


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
