"""Needs a person: late submissions, receipt comments and regrades; times in the course's zone."""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gradebook"))
from tests_support_bb import receipt_download

from autograder.cli import main


def test_late_comments_and_regrades_need_a_person_in_the_course_zone(tmp_path, capsys):
    src, out = tmp_path / "in", tmp_path / "out"
    receipt_download(src, "on_time")
    receipt_download(src, "sick", stamp="2026-09-27-10-00-00",
                     date="Sunday, September 27, 2026 10:00:00 AM KST",
                     comments="Sorry, I am late, I was sick.")
    regrades = tmp_path / "regrades.csv"
    regrades.write_text("student_id,question,points,who,why\n"
                        "on_time,sigmoid,10,Prof Lee,grader bug\n")
    assert main(["grade", "hw1", str(src), "--out", str(out), "--deadline",
                 "2026-09-23T23:59", "--timezone", "Asia/Seoul",
                 "--overrides", str(regrades)]) == 0
    printed = capsys.readouterr().out
    assert "Sorry, I am late, I was sick." in printed
    assert re.search(r"sick: .*4 day\(s\) late", printed)
    page = html.unescape((out / "report" / "index.html").read_text())
    attention = page[page.index('id="attention"'):page.index('id="students"')]
    sick = attention[attention.index(">sick<"):].split("</li>")[0]
    assert "4 day(s) late" in sick and "Sorry, I am late, I was sick." in sick
    on_time = attention[attention.index(">on_time<"):].split("</li>")[0]
    assert "sigmoid regraded to 10 by Prof Lee (grader bug)" in on_time
    students = page[page.index('id="students-table"'):]
    assert "2026-09-27 10:00:00+09:00" in students  # submitted, in Seoul
    assert re.search(r"Generated \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+09:00", page)
    assert main(["history", "hw1", "sick", "--out", str(out)]) == 0
    history = capsys.readouterr().out
    assert re.search(r"graded \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+09:00", history), history
