"""What a student reads about their grade: a Markdown and an HTML report.

Built only from a ``SubmissionResult``, whose test messages are student-safe
by construction (``checks.GradingFailure`` and ``StudentError`` texts). Never
shown here: hidden inputs, expected values, grader source, internal grader
errors, the worker's raw output. With ``show_test_names=False`` (the TA's
choice before the deadline) hidden tests appear as "check 2 of 4".
"""

from __future__ import annotations

import html
from pathlib import Path

from nbconvert.filters.markdown_mistune import markdown2html_mistune

from .results import STATUSES, SubmissionResult, atomic_write

HTML_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:52em;margin:2em auto;line-height:1.45}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.25em .6em}}
code{{background:#f3f3f3}}</style></head><body>
{body}
</body></html>
"""


def _safe(text: str) -> str:
    """Student-influenced text (their own exception messages) as inert Markdown."""
    return html.escape(" ".join(text.split()), quote=False).replace("|", "\\|")


def _points(value: float) -> str:
    return f"{value:g}"


def render_markdown(result: SubmissionResult, *, assignment: str,
                    show_test_names: bool = True) -> str:
    """The student's report as Markdown."""
    earned = result.question_scores()
    lines = [f"# {assignment}: feedback for {result.student_id}", "",
             f"**Score: {_points(result.score)} / {_points(result.max_score)}** "
             f"(status: {result.status} — {STATUSES[result.status]})", ""]
    if result.message:
        lines += [f"> {_safe(result.message)}", ""]
    lines += ["| question | points |", "|---|---:|"]
    lines += [f"| `{q}` | {_points(earned[q])} / {_points(m)} |" for q, m in result.questions.items()]
    lines.append("")
    for question in result.questions:
        tests = [t for t in result.tests if t.question == question]
        failed = [(n, t) for n, t in enumerate(tests, 1) if not t.passed]
        if not failed:
            continue
        lines += [f"## `{question}`", ""]
        for number, test in failed:
            label = _safe(test.name) if show_test_names else f"check {number} of {len(tests)}"
            lines.append(f"- {label} ({_points(test.max_points)} points): {_safe(test.feedback)}")
        lines.append("")
    notes = list(result.notes) + list(result.cells)
    if notes:
        lines += ["## About your notebook", ""] + [f"- {_safe(note)}" for note in notes] + [""]
    lines.append("Hidden tests use fresh random inputs each grading run; the public checks in "
                 "the notebook only catch common mistakes.")
    return "\n".join(lines) + "\n"


def write_feedback(result: SubmissionResult, out_dir: Path, *, assignment: str,
                   show_test_names: bool = True) -> tuple[Path, Path]:
    """Write ``feedback.md`` and ``feedback.html`` beside the student's results.json."""
    markdown = render_markdown(result, assignment=assignment, show_test_names=show_test_names)
    folder = out_dir / result.student_id
    md_path, html_path = folder / "feedback.md", folder / "feedback.html"
    atomic_write(md_path, markdown)
    title = f"{assignment} feedback: {result.student_id}"
    atomic_write(html_path, HTML_PAGE.format(title=title, body=markdown2html_mistune(markdown)))
    return md_path, html_path
