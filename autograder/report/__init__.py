"""The TA's report: a static, offline site at ``OUT/report/index.html`` built from the gradebook.

``write_report`` reads the latest result per student from ``OUT/gradebook.sqlite``
(``store``), draws the figures (``plots``), compares the students' code when
the submissions are at hand (``similarity``) and renders the pages (``html``).
Nothing in the site loads anything from the network or runs student text.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from ..gradebook import ledger
from ..gradebook.safe_ids import safe_ids
from ..gradebook.store import DB_NAME, Gradebook
from ..grading.catalog import Assignment
from ..intake.find import find_submissions
from . import data as report_data
from .html import write_pages
from .plots import draw
from .similarity import Code, Skeleton, cells_of, similar_pairs, student_code

REPORT_DIR = "report"
COMPARED = ("graded", "timeout")  # statuses whose notebook was read and run


def write_report(assignment_name: str, out: Path, submissions: Path | None = None) -> Path:
    """Write ``out/report/index.html`` (and its figures and pair pages); return its path."""
    assignment = Assignment.find(assignment_name)
    with Gradebook.open(out / DB_NAME, create=False) as book:
        results = list(ledger.current(book, assignment.name).values())  # regrades applied
        remembered = ledger.source(book.connection, assignment.name)
        zone = ledger.Adjustments(book.connection, assignment.name).zone
    codes: dict[str, dict[str, Code]] = {}
    pairs = []
    if submissions is None and remembered is not None and remembered.exists():
        submissions = remembered  # where the last `grade` read them
    if submissions is None:
        gone = (f"The submissions the last grade read ({remembered}) are gone. "
                if remembered is not None else "")
        note = (f"{gone}Similarity was not computed: run `python -m autograder report "
                f"{assignment.name} --out OUT --submissions FOLDER_OR_ZIP` (grade does).")
    else:
        started = time.monotonic()
        wanted = {r.student_id for r in results if r.status in COMPARED}
        codes, skeleton = compare_inputs(assignment, submissions, wanted)
        pairs = similar_pairs(codes, skeleton)
        note = (f"Code of {len(codes)} notebook(s) (read from {submissions}) compared per "
                f"question in "
                f"{time.monotonic() - started:.1f} s; the skeleton's code and code that more "
                f"than a fifth of the class shares are ignored, and so are names and layout. "
                f"Pairs at {report_data.SIMILAR:.0%} or more need a person.")
    data = report_data.build(assignment.name, assignment.questions, results, pairs, note, zone)
    folder = out / REPORT_DIR
    figures = draw(data, folder)
    return write_pages(data, folder, figures, codes, out / DB_NAME)


def compare_inputs(assignment: Assignment, submissions: Path,
                   wanted: set[str]) -> tuple[dict[str, dict[str, Code]], Skeleton]:
    """Each wanted student's code per question, and the skeleton it is compared against."""
    skeleton_path = assignment.public_dir / f"{assignment.name}.ipynb"
    skeleton = Skeleton.from_notebook(skeleton_path, assignment.questions)
    codes = {}
    with tempfile.TemporaryDirectory(prefix="autograder-report-") as workdir:
        # the ids grading used: intake's, then gradebook.safe_ids (renamed TA files, '..', ...)
        for submission in safe_ids(find_submissions(submissions, Path(workdir))):
            if submission.student_id in wanted and submission.path is not None:
                codes[submission.student_id] = student_code(skeleton,
                                                            cells_of(submission.path))
    return codes, skeleton
