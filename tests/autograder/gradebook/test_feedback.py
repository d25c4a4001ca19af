"""What a student sees about their grade (feedback.md/.html, results.json) holds nothing of the
grader's: no hidden inputs, expected values, grader source or internal errors. Those go to the
TA log only. Hidden test names can be hidden (an export choice: scores unchanged, no regrade),
and text from the student's process cannot add markup to feedback.html.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import nbformat

from autograder.batch.run import grade_all
from autograder.gradebook.feedback import render_markdown, write_feedback
from autograder.gradebook.results import (
    ERROR_MESSAGE_FOR_STUDENT,
    SubmissionResult,
    TestOutcome,
    write_results_json,
    write_ta_log,
)
from autograder.sandbox.launch import Limits

QUESTIONS = {"q1": 10.0, "q_2": 5.0}
GRADER_SECRET = "expected=0.73105857 from reference.sigmoid(secret_input)"
HOSTILE = "<script>alert(1)</script> [click](javascript:alert(1)) ![x](http://evil.example/p.png)"
TESTS = (
    TestOutcome("sigmoid of a scalar", "q1", 4, True),
    TestOutcome("sigmoid keeps the shape", "q1", 6, False, f"`sigmoid` raised ValueError: {HOSTILE}"),
    TestOutcome("returns a float", "q_2", 5, False,
                "the grader could not check this (an internal grader error; the TA has been told)"),
)
TA_ONLY = {"internal_errors": [f"test_x: AssertionError: {GRADER_SECRET}"],
           "worker_output": "WORKER_PRINTED hidden input [0.123, 0.456]",
           "pytest_log": f"def test_x():\n    assert out == {GRADER_SECRET}"}


def result(status: str = "graded", message: str = "", tests=TESTS) -> SubmissionResult:
    return SubmissionResult(student_id="s1", status=status, max_score=15.0, questions=QUESTIONS,
                            tests=tuple(tests), message=message, seed=7,
                            cells=(f"cell 3 raised NameError: {HOSTILE}",),
                            extra={"restarts": 1, **TA_ONLY})


def student_files(r: SubmissionResult, out: Path, show_test_names: bool = True) -> str:
    """Everything written to the student's folder, as one text."""
    write_results_json(r, out, show_test_names=show_test_names)
    write_feedback(r, out, assignment="hw1", show_test_names=show_test_names)
    return "\n".join(p.read_text() for p in sorted((out / r.student_id).iterdir()))


def test_student_files_hold_no_grader_diagnostics_but_the_ta_log_does(tmp_path):
    """Internal errors, the worker's output and the pytest log reach only the TA log."""
    r = result()
    visible = student_files(r, tmp_path)
    for secret in (GRADER_SECRET, "WORKER_PRINTED", "0.123", "def test_x"):
        assert secret not in visible
    assert sorted(p.name for p in (tmp_path / "s1").iterdir()) == \
        ["feedback.html", "feedback.md", "results.json"]
    extra = json.loads((tmp_path / "s1" / "results.json").read_text())["extra_data"]
    assert extra["restarts"] == 1 and not TA_ONLY.keys() & extra.keys()
    log = json.loads(write_ta_log(r, tmp_path).read_text())
    assert log["extra"] == {"restarts": 1, **TA_ONLY}
    assert write_ta_log(r, tmp_path).parent == tmp_path / "_ta_logs"


def test_error_details_are_the_tas(tmp_path):
    """A failure that is not the student's shows a generic message; the details are TA-only."""
    r = result("error", message=f"pytest failed: Traceback ... {GRADER_SECRET}", tests=())
    visible = student_files(r, tmp_path)
    assert GRADER_SECRET not in visible and "Traceback" not in visible
    assert ERROR_MESSAGE_FOR_STUDENT in render_markdown(r, assignment="hw1")
    data = json.loads((tmp_path / "s1" / "results.json").read_text())
    assert data["extra_data"]["message"] == ERROR_MESSAGE_FOR_STUDENT and data["score"] == 0
    assert GRADER_SECRET in json.loads(write_ta_log(r, tmp_path).read_text())["message"]


def test_hidden_test_names_become_check_n_of_m_with_the_same_scores(tmp_path):
    """Per question numbering, the same in feedback and results.json; scores do not move."""
    shown = json.loads(write_results_json(result(), tmp_path / "a").read_text())
    hidden = json.loads(write_results_json(result(), tmp_path / "b",
                                           show_test_names=False).read_text())
    assert [t["name"] for t in hidden["tests"]] == \
        ["q1: check 1 of 2", "q1: check 2 of 2", "q_2: check 1 of 1"]
    assert shown["tests"][0]["name"] == "q1: sigmoid of a scalar"
    strip = ("name",)
    assert [{k: v for k, v in t.items() if k not in strip} for t in hidden["tests"]] == \
        [{k: v for k, v in t.items() if k not in strip} for t in shown["tests"]]
    assert hidden["score"] == shown["score"] == 4
    markdown = render_markdown(result(), assignment="hw1", show_test_names=False)
    assert "check 2 of 2 (0 / 6 points)" in markdown and "check 1 of 1 (0 / 5 points)" in markdown
    assert "keeps the shape" not in markdown and "returns a float" not in markdown
    assert "sigmoid keeps the shape (0 / 6 points)" in render_markdown(result(), assignment="hw1")


def test_student_text_cannot_add_markup_to_the_html(tmp_path):
    """Tags, links and images in a student's exception text stay text in feedback.html."""
    _, html_path = write_feedback(result(), tmp_path, assignment="hw1")
    page = html_path.read_text()
    assert "<script" not in page and "<img" not in page
    assert not [link for link in re.findall(r"<a [^>]*>", page) if 'href="#' not in link]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "[click](javascript:alert(1)) ![x](http://evil.example/p.png)" in page  # as text


def write_notebook(path: Path, source: str) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("import numpy as np\nprint('TOP LEVEL RAN')"),
                      nbformat.v4.new_code_cell(source)]
    nbformat.write(notebook, path)


LEAKY = '''
def perceptron(x1, x2, w):
    print("LEAK", x1, x2, list(w))
    raise ValueError("<b>bold</b> [x](javascript:alert(1)) got " + repr(list(w)))
'''


def test_a_grading_run_writes_feedback_and_hiding_names_is_an_export_choice(tmp_path):
    """``grade`` writes feedback per student; rerunning with names shown regrades nothing."""
    source, out = tmp_path / "subs", tmp_path / "out"
    source.mkdir()
    write_notebook(source / "s1.ipynb", LEAKY)
    limits = Limits(cell_seconds=5, call_seconds=2, submission_seconds=20, startup_seconds=15)
    first = grade_all("hw1", source, out, jobs=1, limits=limits, argv=["test"],
                      show_test_names=False)
    assert first.graded == ("s1",)
    folder = out / "s1"
    visible = "\n".join((folder / name).read_text()
                        for name in ("results.json", "feedback.md", "feedback.html"))
    assert "LEAK" not in visible and "TOP LEVEL RAN" not in visible  # the worker's prints
    page = (folder / "feedback.html").read_text()
    assert "<b>" not in page and "&lt;b&gt;bold" in page
    assert not [link for link in re.findall(r"<a [^>]*>", page) if 'href="#' not in link]
    names = [t["name"] for t in json.loads((folder / "results.json").read_text())["tests"]]
    assert names[0] == "perceptron: check 1 of 6" and "check 1 of 6" in visible
    assert "worker_output" in json.loads((out / "_ta_logs" / "s1.json").read_text())["extra"]
    scores = (out / "gradebook.csv").read_text()

    second = grade_all("hw1", source, out, jobs=1, limits=limits, argv=["test"])
    assert second.graded == () and second.reused == ("s1",)
    assert (out / "gradebook.csv").read_text() == scores
    names = [t["name"] for t in json.loads((folder / "results.json").read_text())["tests"]]
    assert not any("check 1 of" in name for name in names)
    assert "check 1 of 6" not in (folder / "feedback.md").read_text()


GARBLERS = (
    TestOutcome("perceptron sums the bias", "q1", 4, False,
                "perceptron(1, 0, w) returned 0; w0 + w1*x1 + w2*x2 >= 0 means 1"),
    TestOutcome("sigmoid stays in [0, 1]", "q1", 6, False,
                "`sigmoid` raised ValueError: *star* _under_ [0, 1] <img src=x onerror=alert(1)>"
                " </script><script>alert(2)</script> ``tick`` \x1b[31mred"),
    TestOutcome("returns a float", "q_2", 5, True),
)


def test_feedback_markdown_reads_as_the_text_and_html_has_no_stray_markup(tmp_path):
    """No italics from grader or student text, no anchors, no backslashes in feedback.md."""
    r = dataclasses.replace(result(tests=GARBLERS), extra={"notes": ["module 'torch' is missing"]})
    md_path, html_path = write_feedback(r, tmp_path, assignment="hw1")
    markdown, page = md_path.read_text(), html_path.read_text()
    assert "w0 + w1*x1 + w2*x2 >= 0" in markdown and "*star* _under_ [0, 1]" in markdown
    assert "\\" not in markdown and "\x1b" not in markdown  # no backslash escapes at all
    assert "<em>" not in page and "<strong>star" not in page and "¶" not in page
    assert "<img" not in page and "<script" not in page and "</script>" not in page
    assert "w0 + w1*x1 + w2*x2 &gt;= 0" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "&lt;/script&gt;" in page
    assert 'name="viewport"' in page and "script-src" not in page  # default-src 'none'
    assert page.count('<li class="fail">') == 2 and page.count('<li class="pass">') == 1
    assert "module 'torch' is missing" in page  # notes added by other parts of the grader
    assert "<h2>q1: 0 / 10 points</h2>" in page and "<h2>q_2: 5 / 5 points</h2>" in page


def test_an_invalid_notebook_gets_a_plain_explanation_and_what_to_do(tmp_path):
    r = result("invalid", message="the file is not valid JSON (line 1: Expecting value)",
               tests=())
    markdown = render_markdown(r, assignment="hw1")
    assert "the file is not valid JSON (line 1: Expecting value)" in markdown
    assert "What to do:" in markdown and "Restart & Run All" in markdown
    page = write_feedback(r, tmp_path, assignment="hw1")[1].read_text()
    assert "What to do:" in page and "Restart &amp; Run All" in page


def test_backticks_in_messages_render_as_code_and_nothing_else_does(tmp_path):
    from autograder.gradebook.feedback import inline_html

    failing = SubmissionResult(
        student_id="s1", status="graded", max_score=10.0, questions={"softmax": 10.0},
        tests=(TestOutcome("`softmax` is finite", "softmax", 10, False,
                           "`softmax` returned nan; see [x](javascript:alert(1)) *a* <b>b</b>"),),
        notes=("cell 3: `%pip install torch` was skipped",))
    _, html_path = write_feedback(failing, tmp_path, assignment="hw1")
    page = html_path.read_text()
    assert "<code>softmax</code> returned nan" in page
    assert "<code>%pip install torch</code> was skipped" in page
    assert "[x](javascript:alert(1)) *a* &lt;b&gt;b&lt;/b&gt;" in page
    assert "`" not in page.split("<body>")[1]
    assert str(inline_html("`a<b` and [l](http://x) <i>")) == \
        "<code>a&lt;b</code> and [l](http://x) &lt;i&gt;"
