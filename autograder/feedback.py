"""What a student reads about their grade: a Markdown and an HTML report.

Built only from a ``SubmissionResult``, whose test messages are student-safe
by construction (``checks.GradingFailure`` and ``StudentError`` texts). Never
shown here: hidden inputs, expected values, grader source, internal grader
errors, the details of a failure that is not the student's (``status``
``error``), the worker's raw output (its prints during graded calls could echo
hidden inputs). With ``show_test_names=False`` (the TA's choice before the
deadline) hidden tests appear as "check 2 of 4", as in results.json.

Text that came from the student's process is made inert twice: Markdown's
link, image, HTML and entity syntax is backslash-escaped, and the HTML renderer
escapes what is left, so ``feedback.html`` never gains a tag or a link from it.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from nbconvert.filters.markdown_mistune import markdown2html_mistune

from .results import STATUSES, SubmissionResult, atomic_write, inside

HTML_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:52em;margin:2em auto;line-height:1.45}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.25em .6em}}
code{{background:#f3f3f3}}</style></head><body>
{body}
</body></html>
"""
MARKDOWN_ACTIVE = frozenset("\\[]<&|")  # links and images, raw HTML, entities, cells
URL_COLON = re.compile(r":(?=//)")  # "http://x" and "www.x" would become links: escape
URL_WWW = re.compile(r"\b(www)\.", re.IGNORECASE)


def _safe(text: str) -> str:
    """Student-influenced text (their own exception messages) as inert, one-line Markdown."""
    escaped = "".join(f"\\{c}" if c in MARKDOWN_ACTIVE else c for c in " ".join(text.split()))
    return URL_WWW.sub(r"\1\\.", URL_COLON.sub(r"\\:", escaped))


def _points(value: float) -> str:
    return f"{value:g}"


def render_markdown(result: SubmissionResult, *, assignment: str,
                    show_test_names: bool = True) -> str:
    """The student's report as Markdown."""
    earned = result.question_scores()
    lines = [f"# {assignment}: feedback for {result.student_id}", "",
             (f"**Score: {_points(result.score)} / {_points(result.max_score)}** "
              f"(status: {result.status} — {STATUSES[result.status]})"), ""]
    if result.student_message:
        lines += [f"> {_safe(result.student_message)}", ""]
    lines += ["| question | points |", "|---|---:|"]
    lines += [f"| `{q}` | {_points(earned[q])} / {_points(m)} |" for q, m in result.questions.items()]
    lines.append("")
    labels = result.test_labels(show_test_names=show_test_names)
    for question in result.questions:
        failed = [(label, test) for label, test in zip(labels, result.tests, strict=True)
                  if test.question == question and not test.passed]
        if not failed:
            continue
        lines += [f"## `{question}`", ""]
        for label, test in failed:
            lines.append(f"- {_safe(label.rstrip('.'))} ({_points(test.max_points)} points): "
                         f"{_safe(test.feedback)}")
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
    folder = inside(out_dir, result.student_id)  # checked: stays under OUT, off TA files
    md_path, html_path = folder / "feedback.md", folder / "feedback.html"
    atomic_write(md_path, markdown)
    title = html.escape(f"{assignment} feedback: {result.student_id}")
    atomic_write(html_path, HTML_PAGE.format(title=title, body=markdown2html_mistune(markdown)))
    return md_path, html_path
