"""Gradescope renders a test's output as Markdown (``output_format: md``); the student's text
in it must stay text (issue 22 item 7), as it does in feedback.md/html.

Rendered here with raw HTML *allowed* (the worst a Markdown renderer may do):
nothing a student wrote may become a tag, a link or an entity.
"""

from __future__ import annotations

import re

import pytest
from markdown_it import MarkdownIt

from autograder.gradebook.results import SubmissionResult, TestOutcome

HOSTILE = {
    "img": "<img src=x onerror=alert(1)>",
    "script": "<script>alert(1)</script>",
    "link": "[click](javascript:alert(1))",
    "autolink": "<javascript:alert(1)>",
    "backtick-breakout": "`` ` <img src=x onerror=alert(1)> ` ``",
    "many-backticks": "`````<img src=x onerror=alert(1)>",
    "blank-line": "x\n\n<img src=x onerror=alert(1)>\n\n",
    "entity": "&lt;img src=x onerror=alert(1)&gt; &#x3C;script&#x3E;",
    "reference": "[x]\n\n[x]: javascript:alert(1)",
    "html-block": "<div>\n<img src=x onerror=alert(1)>\n</div>",
}
RENDER = MarkdownIt("commonmark", {"html": True})


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_student_text_in_results_json_is_inert_markdown(text):
    feedback = f"`sigmoid` raised ValueError: {text}"
    result = SubmissionResult(student_id="a", status="graded", max_score=1, questions={"q": 1.0},
                              tests=(TestOutcome("`sigmoid` of 0", "q", 1, False, feedback),))
    [test] = result.to_gradescope()["tests"]
    assert test["output_format"] == "md"
    html = RENDER.render(test["output"])
    assert "<img" not in html and "<script" not in html and "<a " not in html, html
    assert "<div" not in html and "javascript:alert(1)</a>" not in html, html
    assert re.sub(r"<code>.*?</code>", "", html, flags=re.DOTALL) == "<p></p>\n", html
    assert "raised ValueError" in html
