"""What a student reads about their grade: ``feedback.md`` and the same content as ``feedback.html``.

Built only from a ``SubmissionResult``, whose test messages are student-safe
by construction (``checks.GradingFailure`` and ``StudentError`` texts). Never
shown here: hidden inputs, expected values, grader source, internal grader
errors, the details of a failure that is not the student's (``status``
``error``), the worker's raw output (its prints during graded calls could echo
hidden inputs). With ``show_test_names=False`` (the TA's choice before the
deadline) hidden tests appear as "check 2 of 4", as in results.json.

Text that did not come from this module (test messages, which quote the
student's exception text, notes, student ids) is written as a Markdown code
span: nothing inside one is Markdown (no italics from ``w0 + w1*x1``, no links,
no HTML, no entities) and it needs no backslashes, so ``feedback.md`` reads as
the text itself. ``feedback.html`` is that Markdown rendered by markdown-it-py
with raw HTML off, in a page whose Content-Security-Policy allows no script.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

from . import safetext
from .results import STATUSES, SubmissionResult, atomic_write, inside

PASS, FAIL = "✔", "✘"
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
ADVICE = {
    "invalid": ("We could not read your file as a Jupyter notebook, so nothing in it was run. "
                "What to do: open the notebook in Jupyter (or Colab), check that it opens and runs "
                "from the top (Kernel → Restart & Run All), save it, and submit the `.ipynb` file "
                "itself (File → Download as .ipynb), not a renamed .py, .pdf, .html or .zip, and "
                "not an empty or partly uploaded file. Then ask the course staff to regrade it."),
    "missing": ("No notebook was found for you in this assignment's submissions. If you did "
                "submit, tell the course staff which file you uploaded and when."),
    "timeout": ("Your notebook used up its total time limit, so the tests that could not run "
                "scored 0. Look for a loop that does not end, or work that is much larger than "
                "the assignment needs (training for many epochs, printing huge arrays), and "
                "check that the whole notebook runs in a few minutes on your machine."),
    "error": ("Nothing here is your fault: grading failed for a reason on our side. The course "
              "staff have the details and will grade your notebook again."),
}
PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{title}</title>
<style>
body{{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
max-width:46em;margin:0 auto;padding:1em;line-height:1.5;color:#1d1d1f;
overflow-wrap:anywhere}}
h1{{font-size:1.45em}}h2{{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}}
table{{border-collapse:collapse;width:100%;max-width:30em}}
td,th{{border:1px solid #ccc;padding:.3em .6em}}th{{background:#f4f4f6}}
code{{background:#f3f3f5;border-radius:3px;padding:0 .2em;white-space:pre-wrap;
font-size:.92em}}
ul{{padding-left:1.2em}}li{{margin:.35em 0}}
li.pass{{color:#176b2c}}li.fail{{color:#a4141b}}li.fail code{{color:#1d1d1f}}
blockquote{{margin:1em 0;padding:.6em 1em;background:#fff6e0;border-left:4px solid #e0a100}}
</style></head><body>
{body}
</body></html>
"""
EMPHASIS_CHAR = re.compile(r"[\\*_]")
INTRAWORD = re.compile(r"(?<=[^\W_])\\(_)(?=[^\W_])")  # a_b: never emphasis, keep it as is
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")


def text(value: str) -> str:
    """Any text not written by this module, as an inert one-line Markdown code span."""
    return safetext.code_span(CONTROL.sub(" ", str(value)))


SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)")  # a CommonMark code span, exactly
INLINE_MARKS = re.compile(r"([\\`*_\[\]<>&!#|~])")  # what can start Markdown inline
LINE_MARK = re.compile(r"^(\d+(?=[.)])|[-+=])")  # first on a line: a list item, a heading
INLINE = MarkdownIt("commonmark", {"html": False})


def code_spans(value: str) -> str:
    """A message as one line of Markdown where only its `code` spans are live: whatever else
    could start Markdown is backslash-escaped (no link, image, emphasis, tag or block)."""
    value = " ".join(CONTROL.sub(" ", str(value)).split()) or " "
    out, position = [], 0
    for span in SPAN.finditer(value):
        out += [_escape(value[position:span.start()], position == 0), span.group(0)]
        position = span.end()
    out.append(_escape(value[position:], position == 0))
    return "".join(out)


def _escape(part: str, first: bool) -> str:
    """Backslash before every inline mark; at the start of the line, before a block mark."""
    part = INLINE_MARKS.sub(r"\\\1", part)
    if first:
        part = LINE_MARK.sub(lambda m: m.group(0) + "\\" if m.group(0)[0].isdigit()
                             else "\\" + m.group(0), part, count=1)
    return part


def inline_html(value: str) -> Markup:
    """A message as inline HTML: `code` spans as <code>, everything else escaped text."""
    return Markup(INLINE.renderInline(code_spans(value)).strip())


def plain(value: str) -> str:
    """Grader-written Markdown (test names are docstrings with `code`): kept, but ``*``, ``_``
    and ``\\`` outside code spans are escaped so that no stray emphasis appears."""
    value = " ".join(CONTROL.sub(" ", str(value)).split())
    parts = CODE_SPAN.split(value)  # [text, fence, code, text, fence, code, ...]
    out = []
    for i in range(0, len(parts), 3):
        out.append(INTRAWORD.sub(lambda m: m.group(1), EMPHASIS_CHAR.sub(r"\\\g<0>", parts[i])))
        if i + 2 < len(parts):
            out.append(f"{parts[i + 1]}{parts[i + 2]}{parts[i + 1]}")
    return "".join(out)


def _points(value: float) -> str:
    return f"{value:g}"


def render_markdown(result: SubmissionResult, *, assignment: str,
                    show_test_names: bool = True, for_html: bool = False) -> str:
    """The student's report as Markdown: score, advice, per-question sections, notes.

    Messages are whole code spans in feedback.md (it reads as the text, no backslashes);
    ``for_html``: their own `code` spans are kept live and the rest escaped (``code_spans``).
    """
    message = code_spans if for_html else text
    earned = result.question_scores()
    lines = [f"# {assignment}: feedback for {text(result.student_id)}", "",
             (f"**Score: {_points(result.score)} / {_points(result.max_score)}** "
              f"(status: {result.status} — {STATUSES[result.status]})"), ""]
    if result.student_message:
        lines += [f"> {message(result.student_message)}", ""]
    if result.status in ADVICE:
        lines += [f"> {ADVICE[result.status]}", ""]
    lines += ["| question | points |", "|---|---:|"]
    lines += [f"| {plain(q)} | {_points(earned[q])} / {_points(m)} |" for q, m in result.questions.items()]
    lines.append("")
    labels = result.test_labels(show_test_names=show_test_names)
    for question in result.questions:
        tests = [(label, test) for label, test in zip(labels, result.tests, strict=True)
                 if test.question == question]
        if not tests:
            continue
        passed = sum(test.passed for _, test in tests)
        lines += [(f"## {plain(question)}: {_points(earned[question])} / "
                   f"{_points(result.questions[question])} points"), "",
                  f"{passed} of {len(tests)} checks passed.", ""]
        for label, test in tests:
            mark = PASS if test.passed else FAIL
            line = (f"- {mark} {plain(label.rstrip('.'))} "
                    f"({_points(test.points)} / {_points(test.max_points)} points)")
            if not test.passed and test.feedback:
                line += f": {message(test.feedback)}"
            lines.append(line)
        lines.append("")
    notes = [*result.notes, *result.cells, *_extra_notes(result)]
    if notes:
        lines += ["## About your notebook", ""] + [f"- {message(note)}" for note in notes] + [""]
    lines.append("Hidden tests use fresh random inputs each grading run; the public checks in "
                 "the notebook only catch common mistakes.")
    return "\n".join(lines) + "\n"


def _extra_notes(result: SubmissionResult) -> list[str]:
    """Notes another part of the grader may add under ``extra['notes']`` (a list of texts)."""
    notes = result.extra.get("notes") if isinstance(result.extra, dict) else None
    if isinstance(notes, str):
        return [notes]
    return [str(note) for note in notes] if isinstance(notes, list | tuple) else []


def render_html(markdown: str, *, title: str) -> str:
    """``markdown`` as a standalone page; pass/fail list items get a class for their colour."""
    tokens = MARKDOWN.parse(markdown)
    for i, token in enumerate(tokens):
        if token.type == "list_item_open":
            mark = _first_text(tokens[i + 1:])
            if mark.startswith(PASS):
                token.attrSet("class", "pass")
            elif mark.startswith(FAIL):
                token.attrSet("class", "fail")
    body = MARKDOWN.renderer.render(tokens, MARKDOWN.options, {})
    return PAGE.format(title=html.escape(title), body=body)


def _first_text(tokens: list[Token]) -> str:
    for token in tokens:
        if token.type == "inline":
            return token.content
    return ""


def write_feedback(result: SubmissionResult, out_dir: Path, *, assignment: str,
                   show_test_names: bool = True) -> tuple[Path, Path]:
    """Write ``feedback.md`` and ``feedback.html`` beside the student's results.json."""
    markdown = render_markdown(result, assignment=assignment, show_test_names=show_test_names)
    folder = inside(out_dir, result.student_id)  # checked: stays under OUT, off TA files
    md_path, html_path = folder / "feedback.md", folder / "feedback.html"
    atomic_write(md_path, markdown)
    for_html = render_markdown(result, assignment=assignment, show_test_names=show_test_names,
                               for_html=True)
    atomic_write(html_path, render_html(for_html, title=f"{assignment} feedback: "
                                                        f"{result.student_id}"))
    return md_path, html_path
