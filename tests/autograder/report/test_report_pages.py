"""The report's files, read as text: who needs a person, items, escaping, offline, commands."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import subprocess
import sys
from pathlib import Path

from report_site import HOSTILE, REPO, build_site

from autograder.report.html import SCRIPT


def test_needs_a_person_lists_every_problem_with_its_reason(site):
    _, index = site
    page = index.read_text()
    section = page[page.index('id="attention"'):page.index('id="students"')]
    for student, reason in [("absent", "no notebook found"), ("broken", "not valid JSON"),
                            ("slow", "ran out of time"), ("unlucky", "grading failed"),
                            ("copy_a", "similar to copy_b (100%)"),
                            ("copy_b", "similar to copy_a (100%)")]:
        assert re.search(rf">{student}</a>[^\n]*\n[^\n]*{re.escape(reason)}", section), student
    assert ">honest</a>" not in section


def test_item_analysis_names_tests_nobody_and_everybody_passes(site):
    page = site[1].read_text()
    assert re.search(r"Nobody passed: <b>softmax</b>: <code>softmax</code> is finite", page)
    assert re.search(r"Everybody passed: <b>sigmoid</b>", page)
    assert "3 / 5" in page and "1× <code>neural_network</code> raised AssertionError" in page


def test_student_text_is_escaped_everywhere(site):
    out, index = site
    pages = [index, *index.parent.glob("pair-*.html"), *out.glob("*/feedback.html")]
    assert len(pages) >= 9
    for page in (p.read_text() for p in pages):
        assert "<img src=x" not in page and "alert(2)</script>" not in page
        assert page.count("<script") <= 1
    assert HOSTILE.replace("<", "&lt;").replace(">", "&gt;") in index.read_text()


def test_the_site_is_offline_and_its_script_is_pinned_by_hash(site):
    _out, index = site
    for page in index.parent.iterdir():
        text = page.read_text()
        if page.suffix == ".html":
            assert not re.search(r"""(src|href)=["']?(https?:)?//""", text), page
        else:  # matplotlib's SVGs: no external references beyond XML namespaces
            assert not re.search(r"""(xlink:)?href=["']https?:""", text), page
    digest = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
    page = html.unescape(index.read_text())  # the CSP attribute's quotes are entities
    assert f"script-src 'sha256-{digest}'" in page and f"<script>{SCRIPT}</script>" in page
    assert {p.name for p in index.parent.glob("*.svg")} == {"scores.svg", "questions.svg",
                                                           "tests.svg"}


def run(*args) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=300, check=False)


def test_report_command_rebuilds_from_the_gradebook(site, tmp_path):
    out, index = site
    done = run("report", "hw1", "--out", out)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == f"report: {index}"
    assert "Similarity was not computed" in index.read_text()
    done = run("report", "hw1", "--out", out, "--submissions", out.parent / "submissions")
    assert done.returncode == 0 and "copy_a</td><td>copy_b" in index.read_text().replace("\n", "")
    missing = run("report", "hw1", "--out", tmp_path / "nothing")
    assert missing.returncode == 2 and "no gradebook at" in missing.stdout


def test_late_days_and_restarts_are_shown_when_records_have_them(site):
    page = site[1].read_text()
    assert "<th data-sort=\"num\" class=\"num\">late days</th>" in page
    table = page[page.index('id="students-table"'):]
    row = table[table.index(">copy_b</a>"):].split("</tr>")[0]
    assert "2026-10-03 09:00:00+09:00" in row and "late 2 d" in row  # in the course zone
    row = table[table.index(">copy_a</a>"):].split("</tr>")[0]
    assert "1 restart(s)" in row


def test_a_student_called_report_does_not_take_the_reports_folder():
    from autograder.gradebook.safe_ids import safe_ids
    from autograder.intake.submission import Submission

    fixed = safe_ids([Submission("report", None), Submission("Report", None)])
    assert all(s.student_id.lower() != "report" for s in fixed)
    assert "cannot be an id as it is" in fixed[0].notes[0]


def test_code_is_compared_under_the_ids_grading_used(tmp_path):
    """A file whose name is not usable as an id as it is (here a TA folder's name) is renamed
    by the batch; the similarity check must find its code under the same new id."""
    import nbformat
    from report_site import COPIED, notebook

    from autograder.grading.catalog import Assignment
    from autograder.report import compare_inputs

    nbformat.write(notebook(COPIED), tmp_path / "report.ipynb")
    nbformat.write(notebook(COPIED), tmp_path / "plain.ipynb")
    import tempfile

    from autograder.gradebook.safe_ids import safe_ids
    from autograder.intake.find import find_submissions

    with tempfile.TemporaryDirectory() as work:  # the ids grading gives these files
        ids = {s.student_id for s in safe_ids(find_submissions(tmp_path, Path(work)))}
    renamed = (ids - {"plain"}).pop()
    assert renamed != "report"
    codes, _ = compare_inputs(Assignment.find("hw1"), tmp_path, ids)
    assert sorted(codes) == sorted(ids)
    assert codes[renamed]["neural_network"].prints == codes["plain"]["neural_network"].prints


def test_report_rebuilt_without_submissions_keeps_the_similarity_section(tmp_path):
    """`report --out OUT` reads the submissions where the last `grade` read them."""
    from autograder.cli import main
    from autograder.gradebook.store import DB_NAME, Gradebook

    out, index = build_site(tmp_path / "site")
    source = out.parent / "submissions"
    before = index.read_text().replace("\n", "")
    assert "copy_a</td><td>copy_b" in before
    # what `grade` keeps: grade the same folder into a scratch OUT, then read its ledger
    scratch = tmp_path / "scratch"
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "x.ipynb").write_text("{ not a notebook")
    assert main(["grade", "hw1", str(tmp_path / "plain"), "--out", str(scratch), "--quiet"]) == 0
    with Gradebook.open(scratch / DB_NAME, create=False) as book:
        from autograder.gradebook import ledger
        assert ledger.source(book.connection, "hw1") == (tmp_path / "plain").resolve()
        with Gradebook.open(out / DB_NAME, create=False) as target:
            ledger.set_source(target.connection, "hw1", source)
    done = run("report", "hw1", "--out", out)
    assert done.returncode == 0, done.stdout + done.stderr
    after = index.read_text().replace("\n", "")
    assert "Similarity was not computed" not in after
    assert "copy_a</td><td>copy_b" in after
    assert f"read from {source}" in after
