"""``history``: every stored grading of one student, what changed between them, regrades.

Times are shown in the course's zone (``ledger.Adjustments.zone``); the score
with regrades applied is the one every other output shows (``ledger.current``).
"""

from __future__ import annotations

from datetime import tzinfo
from pathlib import Path

from ..errors import AutograderError
from . import ledger
from .lateness import shown
from .ledger import current, override_history
from .store import Gradebook, Run, StoredResult


def history_lines(database: Path, assignment: str, student: str) -> list[str]:
    """``history``'s text: each grading, what changed, the regrades, the score they give."""
    with Gradebook.open(database, create=False) as book:
        gradings = book.history(assignment, student)
        regrades = override_history(book.connection, assignment, student)
        if not gradings and not regrades:
            raise AutograderError(f"no grading of {student!r} for {assignment!r} "
                                  f"in {book.path}")
        runs = {run.id: run for run in book.runs(assignment)}
        reuses = {g.id: book.reused_in(g.id) for g in gradings}
        now = current(book, assignment).get(student)  # the score every output shows
        zone = ledger.Adjustments(book.connection, assignment).zone
    lines = [f"{assignment}, student {student}: {len(gradings)} grading(s) in {database}"]
    previous: StoredResult | None = None
    for number, graded in enumerate(gradings, 1):
        lines.append("")
        lines += _describe(number, graded, runs[graded.run_id], reuses[graded.id], previous,
                           zone)
        previous = graded
    if not gradings:
        lines.append("no grading: no submission of this student was graded; the regrades "
                     "below count once one is")
    for o in regrades:
        lines += ["", (f"regrade {shown(o.added_at, zone)}: {o.question} = {o.points:g} by "
                      f"{o.who}: {o.why}")]
    if regrades and now is not None:
        earned = now.question_scores()
        lines += ["", f"with regrades: {now.status} {now.score:g}/{now.max_score:g}  "
                      + "  ".join(f"{q} {earned.get(q, 0.0):g}/{p:g}"
                                  for q, p in now.questions.items())]
    return lines


def _describe(number: int, graded: StoredResult, run: Run, reused_in: list[int],
              previous: StoredResult | None, zone: tzinfo | None = None) -> list[str]:
    r = graded.result
    earned = r.question_scores()
    resumes = f", resumes run {run.resumes}" if run.resumes else ""
    lines = [(f"#{number}  run {run.id} ({run.status}{resumes})  graded "
              f"{shown(graded.graded_at, zone)}  "
             f"{r.status}  {r.score:g}/{r.max_score:g}"),
             (f"    seed {r.seed}  grader {r.grader_version}  submission "
             f"{graded.submission_sha256[:12] or '(none)'}  source {r.source or '(none)'}"),
             "    " + "  ".join(f"{q} {earned.get(q, 0.0):g}/{points:g}"
                                for q, points in r.questions.items())]
    if r.message:
        lines.append(f"    message: {r.message}")
    if reused_in:
        lines.append(f"    reused unchanged by run(s) {', '.join(map(str, reused_in))}")
    if previous is not None:
        lines += [f"    {line}" for line in _changes(previous, graded)]
    return lines


def _changes(before: StoredResult, after: StoredResult) -> list[str]:
    """What differs between two gradings: inputs (submission, grader, seed), then outcomes."""
    old, new = before.result, after.result
    inputs = [_changed("submission", before.submission_sha256[:12], after.submission_sha256[:12]),
              _changed("grader", old.grader_version, new.grader_version),
              _changed("seed", str(old.seed), str(new.seed))]
    lines = ["changed since the previous grading: " + "; ".join(inputs)]
    if old.status != new.status or old.score != new.score:
        lines.append(f"score {old.status} {old.score:g} -> {new.status} {new.score:g}")
    before_tests = {(t.question, t.name): t for t in old.tests}
    after_tests = {(t.question, t.name): t for t in new.tests}
    for key, test in after_tests.items():
        earlier = before_tests.get(key)
        if earlier is None:
            lines.append(f"new test {key[0]}: {key[1]}: {'passed' if test.passed else 'failed'}")
        elif earlier.passed != test.passed:
            why = f" ({test.feedback})" if test.feedback and not test.passed else ""
            lines.append(f"flipped {key[0]}: {key[1]}: "
                         f"{'failed -> passed' if test.passed else 'passed -> failed'}{why}")
    lines += [f"test gone {q}: {name}" for q, name in before_tests.keys() - after_tests.keys()]
    if len(lines) == 1 and old.status == new.status:
        lines.append("no test changed")
    return lines


def _changed(label: str, old: str, new: str) -> str:
    return f"{label} unchanged" if old == new else f"{label} changed ({old} -> {new})"
