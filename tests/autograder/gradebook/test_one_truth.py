"""One truth per score: every output shows a regraded score the same way (issue 26)."""

from __future__ import annotations

import csv
import json
import re

from autograder.cli import main

BROKEN = "{ not a notebook"  # invalid without a sandbox: fast; a regrade still scores


def grade(tmp_path, *extra: str) -> tuple:
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir(exist_ok=True)
    (src / "2023003.ipynb").write_text(BROKEN)
    (src / "2023004.ipynb").write_text(BROKEN)
    overrides = tmp_path / "regrades.csv"
    overrides.write_text("student_id,question,points,who,why\n"
                         "2023003,sigmoid,8,Prof Lee,the sign was the only slip\n"
                         "2023002,softmax,5,TA Kim,mailed in late\n")
    code = main(["grade", "hw1", str(src), "--out", str(out), "--overrides", str(overrides),
                 *extra])
    return code, out


def test_every_output_shows_the_regraded_score(tmp_path, capsys):
    code, out = grade(tmp_path)
    assert code == 0
    printed = capsys.readouterr().out
    # the terminal table: 2023003's row says 8 (sigmoid 8 of 10), 2023004's 0
    assert re.search(r"2023003\s+invalid\s+8/100", printed), printed
    assert re.search(r"2023004\s+invalid\s+0/100", printed), printed
    with (out / "gradebook.csv").open(newline="") as handle:
        book = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert book["2023003"]["score"] == "8"
    assert json.loads((out / "2023003" / "results.json").read_text())["score"] == 8
    assert "8/100" in (out / "2023003" / "feedback.md").read_text() or \
        "8 / 100" in (out / "2023003" / "feedback.md").read_text()
    page = (out / "report" / "index.html").read_text()
    row = re.search(r'<a href="../2023003/feedback.html">2023003</a></td>\s*'
                    r'<td[^>]*>invalid</td>\s*<td class="num" data-value="([\d.]+)"', page)
    assert row and float(row.group(1)) == 8.0
    assert main(["history", "hw1", "2023003", "--out", str(out)]) == 0
    history = capsys.readouterr().out
    assert "sigmoid = 8 by Prof Lee" in history
    assert "with regrades: invalid 8/100" in history


def test_an_override_for_a_student_without_a_submission_is_warned_and_shown(tmp_path, capsys):
    code, out = grade(tmp_path)
    printed = capsys.readouterr().out
    assert code == 0
    warning = printed.index("2023002 has no submission")
    assert warning < printed.index("[1/2]")  # at once: before the batch is graded
    assert printed.count("2023002 has no submission") == 1
    assert main(["history", "hw1", "2023002", "--out", str(out)]) == 0
    history = capsys.readouterr().out
    assert "softmax = 5 by TA Kim: mailed in late" in history
    assert "no grading" in history
