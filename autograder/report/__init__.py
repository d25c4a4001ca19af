"""The TA's report: a static, offline site at ``OUT/report/index.html`` built from the gradebook.

``write_report`` reads the latest result per student from ``OUT/gradebook.sqlite``
(``store``), draws the figures (``plots``), compares the students' code when
the submissions are at hand (``similarity``) and renders the pages (``html``).
Nothing in the site loads anything from the network or runs student text.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from ..gradebook import ledger
from ..gradebook.results import SubmissionResult, atomic_write
from ..gradebook.safe_ids import safe_ids
from ..gradebook.store import DB_NAME, Gradebook
from ..grading.catalog import Assignment
from ..intake.find import find_submissions
from . import data as report_data
from .fingerprint_store import Prefill, file_sha256, fingerprints
from .html import write_pages
from .similarity import Code, Index, Pair, Skeleton, cells_of, student_code

REPORT_DIR = "report"
INPUTS = ".inputs"  # digest of what the report was last written from
FIGURES = ".figures"  # digest of what the figures were last drawn from, and their files
COMPARED = ("graded", "timeout")  # statuses whose notebook was read and run


def write_report(assignment_name: str, out: Path, submissions: Path | None = None) -> Path:
    """Write ``out/report/index.html`` (and its figures and pair pages); return its path.

    Incremental: when the gradebook's latest results, the compared notebooks'
    contents and the report code are those the report was last written from
    (``report/.inputs``), the report is left as it is; otherwise only the
    notebooks that changed are fingerprinted again (``fingerprints``).
    """
    assignment = Assignment.find(assignment_name)
    with Gradebook.open(out / DB_NAME, create=False) as book:
        remembered = ledger.source(book.connection, assignment.name)
        zone = ledger.Adjustments(book.connection, assignment.name).zone
        if submissions is None and remembered is not None and remembered.exists():
            submissions = remembered  # where the last `grade` read them
        inputs = hashlib.sha256(json.dumps([
            assignment.name, assignment.questions, _report_code(), str(submissions), str(zone),
        ]).encode())
        wanted = set()
        for result in _results(book, assignment.name):  # every field, regrades applied
            inputs.update(repr(result).encode() + b"\0")
            if result.status in COMPARED:
                wanted.add(result.student_id)
    folder = out / REPORT_DIR
    stamp, index_page = folder / INPUTS, folder / "index.html"
    with tempfile.TemporaryDirectory(prefix="autograder-report-") as workdir:
        notebooks = []
        if submissions is not None:
            notebooks = [(sid, path, file_sha256(path)) for sid, path
                         in wanted_notebooks(submissions, Path(workdir), wanted)]
            inputs.update(json.dumps([(sid, sha) for sid, _, sha in notebooks]).encode())
        if index_page.is_file() and _read(stamp) == inputs.hexdigest():
            return index_page  # nothing it shows has changed
        with Gradebook.open(out / DB_NAME, create=False) as book:  # read again, one at a time
            data = report_data.build(assignment.name, assignment.questions,
                                     _results(book, assignment.name), [], "", zone)
        figures = _figures(data, folder)  # drawn meanwhile (forked) when they must be
        codes: dict[str, dict[str, Code]] = {}
        pairs: list[Pair] = []
        if submissions is None:
            gone = (f"The submissions the last grade read ({remembered}) are gone. "
                    if remembered is not None else "")
            note = (f"{gone}Similarity was not computed: run `python -m autograder report "
                    f"{assignment.name} --out OUT --submissions FOLDER_OR_ZIP` (grade does).")
        else:
            started = time.monotonic()
            pairs, codes = compare(assignment, notebooks, out)
            note = (f"Code of {len(notebooks)} notebook(s) (read from {submissions}) compared "
                    f"per question in "
                    f"{time.monotonic() - started:.1f} s; the skeleton's code and code that "
                    f"more than a fifth of the class shares are ignored, and so are names and "
                    f"layout. Pairs at {report_data.SIMILAR:.0%} or more need a person.")
    data = report_data.with_similarity(data, pairs, note)
    path = write_pages(data, folder, figures(), codes, out / DB_NAME)
    atomic_write(stamp, inputs.hexdigest())
    return path


def _figures(data: report_data.ReportData, folder: Path) -> Callable[[], dict[str, str]]:
    """The figures (a function that waits for them and returns {figure: file name}), drawn
    again only when what they plot changed (``.figures`` keeps the digest of the scores,
    points per question and pass rates they were drawn from): a re-run in which no score
    moved neither draws them nor imports matplotlib (1-2 s). They are drawn in forked
    processes (``plots.start``) while the caller compares the class's code."""
    plotted = json.dumps([
        data.questions, _report_code(),
        sorted((r.score, sorted(r.questions.items())) for r in data.rows if r.status != "missing"),
        sorted((i.question, i.name, i.passed, i.taken) for i in data.items)])
    digest = hashlib.sha256(plotted.encode()).hexdigest()
    stamp = folder / FIGURES
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError, AttributeError):
        kept = json.loads(stamp.read_text(encoding="utf-8"))
        files = {str(k): str(v) for k, v in kept["files"].items()}
        if kept["digest"] == digest and all((folder / name).is_file() for name in files.values()):
            return lambda: files
    stamp.unlink(missing_ok=True)  # the figures on disk are being replaced
    from .plots import start  # matplotlib: imported only when a figure is drawn

    drawing = start(data, folder)

    def drawn() -> dict[str, str]:
        files = drawing()
        atomic_write(stamp, json.dumps({"digest": digest, "files": files}))
        return files

    return drawn


def _results(book: Gradebook, assignment: str) -> Iterator[SubmissionResult]:
    """``ledger.current``'s results one at a time, by student id (memory flat)."""
    adjustments = ledger.Adjustments(book.connection, assignment)
    for stored in book.each_latest(assignment):
        yield adjustments.apply(stored.result)


def fingerprints_while_grading(assignment_name: str, out: Path
                               ) -> contextlib.AbstractContextManager[Prefill | None]:
    """What ``grade`` passes to ``grade_all(alongside=...)`` (as a ``with``): each grading
    process fingerprints the notebook it graded, stored in ``out`` for the report.
    None (the report fingerprints then) when the skeleton cannot be read: the report's
    trouble never stops grading."""
    try:
        skeleton = skeleton_of(Assignment.find(assignment_name))
    except Exception:  # noqa: BLE001 - the report says what is wrong when it runs
        return contextlib.nullcontext()
    return Prefill(skeleton, out)


@functools.cache  # asked twice per report (its inputs, its figures); read once per process
def _report_code() -> str:
    """A digest of the report's code and templates (a new version rewrites the report)."""
    digest = hashlib.sha256()
    home = Path(__file__).parent
    for path in sorted([*home.glob("*.py"), *home.glob("templates/*")]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, ValueError):
        return ""


def compare(assignment: Assignment, notebooks: list[tuple[str, Path, str]],
            out: Path) -> tuple[list[Pair], dict[str, dict[str, Code]]]:
    """The similar pairs among ``notebooks`` (id, path, sha256), and the code of the
    students in them.

    Streamed: only each notebook's fingerprints are kept (``similarity.Index``),
    read from the store in ``out`` when the notebook is unchanged; the few
    students of the pairs found are read again for their pages. Memory stays
    flat in the class size.
    """
    skeleton = skeleton_of(assignment)
    index = Index(skeleton)
    for student_id, prints in fingerprints(skeleton, notebooks, out):
        index.add(student_id, prints)
    pairs = index.pairs()
    paths = {sid: path for sid, path, _ in notebooks}
    shown = sorted({p.a for p in pairs} | {p.b for p in pairs})
    codes = {s: student_code(skeleton, cells_of(paths[s])) for s in shown}
    return index.with_lines(pairs, codes), codes


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
