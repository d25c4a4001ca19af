"""The TA's report: a static, offline site at ``OUT/report/index.html`` built from the gradebook.

``write_report`` reads the latest result per student from ``OUT/gradebook.sqlite``
(``store``), draws the figures (``plots``), compares the students' code when
the submissions are at hand (``similarity``) and renders the pages (``html``).
Nothing in the site loads anything from the network or runs student text.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from ..gradebook.safe_ids import safe_ids
from ..gradebook.store import DB_NAME, Gradebook
from ..grading.catalog import Assignment
from ..intake.find import find_submissions
from . import data as report_data
from .html import write_pages
from .plots import draw
from .similarity import Code, Index, Pair, Skeleton, cells_of, student_code

REPORT_DIR = "report"
COMPARED = ("graded", "timeout")  # statuses whose notebook was read and run


def write_report(assignment_name: str, out: Path, submissions: Path | None = None) -> Path:
    """Write ``out/report/index.html`` (and its figures and pair pages); return its path."""
    assignment = Assignment.find(assignment_name)
    with Gradebook.open(out / DB_NAME, create=False) as book:
        results = [stored.result for stored in book.latest(assignment.name).values()]
    codes: dict[str, dict[str, Code]] = {}
    pairs: list[Pair] = []
    if submissions is None:
        note = ("Similarity was not computed: run `python -m autograder report "
                f"{assignment.name} --out OUT --submissions FOLDER_OR_ZIP` (grade does).")
    else:
        started = time.monotonic()
        wanted = {r.student_id for r in results if r.status in COMPARED}
        pairs, codes, compared = compare(assignment, submissions, wanted)
        note = (f"Code of {compared} notebook(s) compared per question in "
                f"{time.monotonic() - started:.1f} s; the skeleton's code and code that more "
                f"than a fifth of the class shares are ignored, and so are names and layout. "
                f"Pairs at {report_data.SIMILAR:.0%} or more need a person.")
    data = report_data.build(assignment.name, assignment.questions, results, pairs, note)
    folder = out / REPORT_DIR
    figures = draw(data, folder)
    return write_pages(data, folder, figures, codes, out / DB_NAME)


def compare(assignment: Assignment, submissions: Path,
            wanted: set[str]) -> tuple[list[Pair], dict[str, dict[str, Code]], int]:
    """The similar pairs among the wanted students, the code of the students in them, and
    how many notebooks were compared.

    Streamed: each notebook is read, fingerprinted and dropped (only its fingerprints
    stay, in ``similarity.Index``); the few students of the pairs found are read again
    for their pages. Memory stays flat in the class size.
    """
    skeleton = skeleton_of(assignment)
    index = Index(skeleton)
    paths: dict[str, Path] = {}
    with tempfile.TemporaryDirectory(prefix="autograder-report-") as workdir:
        for student_id, path in wanted_notebooks(submissions, Path(workdir), wanted):
            index.add(student_id, {q: code.prints.keys() for q, code
                                   in student_code(skeleton, cells_of(path)).items()})
            paths[student_id] = path
        pairs = index.pairs()
        shown = {p.a for p in pairs} | {p.b for p in pairs}
        codes = {s: student_code(skeleton, cells_of(paths[s])) for s in sorted(shown)}
    return index.with_lines(pairs, codes), codes, len(paths)


def compare_inputs(assignment: Assignment, submissions: Path,
                   wanted: set[str]) -> tuple[dict[str, dict[str, Code]], Skeleton]:
    """Each wanted student's code per question, and the skeleton it is compared against
    (all in memory: for tests and small classes; the report streams with ``compare``)."""
    skeleton = skeleton_of(assignment)
    with tempfile.TemporaryDirectory(prefix="autograder-report-") as workdir:
        codes = {student_id: student_code(skeleton, cells_of(path)) for student_id, path
                 in wanted_notebooks(submissions, Path(workdir), wanted)}
    return codes, skeleton


def skeleton_of(assignment: Assignment) -> Skeleton:
    return Skeleton.from_notebook(assignment.public_dir / f"{assignment.name}.ipynb",
                                  assignment.questions)


def wanted_notebooks(submissions: Path, workdir: Path,
                     wanted: set[str]) -> Iterator[tuple[str, Path]]:
    """(student id, notebook) of each wanted submission, one at a time, under the ids
    grading used: intake's, then gradebook.safe_ids (renamed TA files, '..', ...)."""
    for submission in safe_ids(find_submissions(submissions, workdir)):
        if submission.student_id in wanted and submission.path is not None:
            yield submission.student_id, submission.path
