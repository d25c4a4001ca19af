"""Deadlines, extensions, late days, overrides and the per-assignment Blackboard upload."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from autograder.batch.run import grade_all
from autograder.cli import main
from autograder.errors import AutograderError
from autograder.gradebook.lateness import late_days, load_deadlines
from autograder.gradebook.ledger import read_overrides
from autograder.sandbox.launch import Limits

KST = timezone(timedelta(hours=9))
BROKEN = "{ not a notebook"  # invalid without a sandbox: fast, and lateness does not care


def bb(src, username, stamp, date, content=BROKEN, comments=""):
    prefix = f"HW1_{username}_attempt_{stamp}"
    (src / f"{prefix}_hw1.ipynb").write_text(content)
    (src / f"{prefix}.txt").write_text(
        f"Name: Some One ({username})\nAssignment: HW1\nDate Submitted: {date}\n"
        "Current Grade: Needs Grading\n\nSubmission Field:\nThere is no student submission "
        f"text data for this assignment.\n\nComments:\n{comments or 'There are no student comments for this assignment.'}\n\n"
        f"Files:\n\tOriginal filename: hw1.ipynb\n\tFilename: {prefix}_hw1.ipynb\n")


def rows(out):
    with (out / "gradebook.csv").open(newline="") as handle:
        return {row["student_id"]: row for row in csv.DictReader(handle)}


@pytest.mark.parametrize(("submitted", "days"), [
    (datetime(2026, 10, 1, 23, 59, tzinfo=KST), 0),
    (datetime(2026, 10, 1, 23, 59, 1, tzinfo=KST), 1),
    (datetime(2026, 10, 2, 23, 59, tzinfo=KST), 1),
    (datetime(2026, 10, 3, 0, 0, tzinfo=KST), 2),
    (datetime(2026, 10, 1, 15, 0, tzinfo=UTC), 1),  # 00:00 KST next day
    (None, None),
])
def test_late_days_round_up_whole_days(submitted, days):
    deadline = datetime(2026, 10, 1, 23, 59, tzinfo=KST)
    assert late_days(submitted, deadline) == days


def test_deadline_needs_an_offset_or_a_zone(tmp_path):
    with pytest.raises(AutograderError, match="no UTC offset"):
        load_deadlines("2026-10-01T23:59", None, None)
    deadlines, _ = load_deadlines("2026-10-01T23:59", None, "Asia/Seoul")
    assert deadlines.default.utcoffset() == timedelta(hours=9)
    bad = tmp_path / "ext.csv"
    bad.write_text("student_id,deadline\n2023001,next week\n")
    with pytest.raises(AutograderError, match=r"ext.csv:2"):
        load_deadlines("2026-10-01T23:59+09:00", bad, None)


def test_lateness_extensions_and_overrides_end_to_end(tmp_path):
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    bb(src, "on_time", "2026-10-01-23-00-00", "Thursday, October 1, 2026 11:00:00 PM KST")
    bb(src, "late_2", "2026-10-03-08-00-00", "Saturday, October 3, 2026 8:00:00 AM")
    bb(src, "extended", "2026-10-03-08-00-00", "Saturday, 3 October 2026 08:00:00 o'clock")
    (src / "2023009.ipynb").write_text(BROKEN)  # a plain file: time unknown
    extensions = tmp_path / "ext.csv"
    extensions.write_text("\ufeffstudent_id,deadline\nextended,2026-10-04T23:59\n")
    deadlines, zone = load_deadlines("2026-10-01T23:59+09:00", extensions, None)
    grade_all("hw1", src, out, limits=Limits(), deadlines=deadlines, server_zone=zone, jobs=1)
    got = rows(out)
    header = list(next(iter(got.values())))
    assert header[-2:] == ["submitted_at", "late_days"]
    assert (got["on_time"]["submitted_at"], got["on_time"]["late_days"]) == \
        ("2026-10-01T23:00:00+09:00", "0")
    assert got["late_2"]["late_days"] == "2" and got["extended"]["late_days"] == "0"
    assert got["2023009"]["late_days"] == "" and got["2023009"]["submitted_at"] == ""
    visible = json.loads((out / "late_2" / "results.json").read_text())
    assert "2 day(s) late" in visible["output"] and "blackboard" not in visible["extra_data"]
    log = json.loads((out / "_ta_logs" / "late_2.json").read_text())
    assert log["extra"]["blackboard"]["name"] == "Some One"
    assert log["extra"]["blackboard"]["attempts"][0]["files"] == [
        "HW1_late_2_attempt_2026-10-03-08-00-00_hw1.ipynb"]

    overrides = tmp_path / "regrades.csv"
    overrides.write_text("student_id,question,points,who,why\n"
                         "late_2,perceptron,15,TA Kim,notebook corrupted by Colab; checked by hand\n")
    assert main(["grade", "hw1", str(src), "--out", str(out), "--quiet",
                 "--overrides", str(overrides)]) == 0
    got = rows(out)
    assert got["late_2"]["perceptron"] == "15" and got["late_2"]["score"] == "15"
    assert got["late_2"]["late_days"] == "2"  # the stored deadline still applies
    # a later run without the file keeps the override
    assert main(["grade", "hw1", str(src), "--out", str(out), "--quiet"]) == 0
    assert rows(out)["late_2"]["perceptron"] == "15"


def test_history_shows_who_granted_a_regrade(tmp_path, capsys):
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    (src / "2023001.ipynb").write_text(BROKEN)
    overrides = tmp_path / "regrades.csv"
    overrides.write_text("student_id,question,points,who,why\n2023001,softmax,5,Prof Lee,"
                         "partial credit for the stable version\n")
    assert main(["grade", "hw1", str(src), "--out", str(out), "--quiet",
                 "--overrides", str(overrides)]) == 0
    capsys.readouterr()
    assert main(["history", "hw1", "2023001", "--out", str(out)]) == 0
    shown = capsys.readouterr().out
    assert "softmax = 5 by Prof Lee: partial credit for the stable version" in shown


@pytest.mark.parametrize(("line", "message"), [
    ("2023001,nonsense,5,TA,why", "not a question"),
    ("2023001,softmax,50,TA,why", "not in 0..10"),
    ("2023001,softmax,5,,why", "who and why"),
])
def test_bad_override_rows_name_the_line(tmp_path, line, message):
    path = tmp_path / "o.csv"
    path.write_text(f"student_id,question,points,who,why\n{line}\n")
    with pytest.raises(AutograderError, match=rf"o.csv:2: .*{message}"):
        read_overrides(path, {"softmax": 10.0})


@pytest.mark.parametrize(("submitted", "days"), [
    (datetime(2026, 9, 23, 23, 59, 59, tzinfo=KST), 0),  # within 10 minutes' grace
    (datetime(2026, 9, 24, 0, 9, tzinfo=KST), 0),
    (datetime(2026, 9, 24, 0, 9, 1, tzinfo=KST), 1),
    (datetime(2026, 9, 25, 0, 9, tzinfo=KST), 1),  # late days count from deadline + grace
])
def test_grace_minutes_move_the_deadline(submitted, days):
    deadline = datetime(2026, 9, 23, 23, 59, tzinfo=KST)
    assert late_days(submitted, deadline, timedelta(minutes=10)) == days


def test_grace_is_stored_like_the_deadline(tmp_path):
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    bb(src, "just_after", "2026-09-23-23-59-59", "Wednesday, September 23, 2026 11:59:59 PM KST")
    assert main(["grade", "hw1", str(src), "--out", str(out), "--quiet",
                 "--deadline", "2026-09-23T23:59+09:00", "--grace", "5"]) == 0
    assert rows(out)["just_after"]["late_days"] == "0"
    assert main(["grade", "hw1", str(src), "--out", str(out), "--quiet"]) == 0  # kept
    assert rows(out)["just_after"]["late_days"] == "0"
    assert main(["grade", "hw1", str(src), "--out", str(out), "--quiet",
                 "--deadline", "2026-09-23T23:59+09:00"]) == 0  # a new deadline, no grace
    assert rows(out)["just_after"]["late_days"] == "1"
    assert main(["grade", "hw1", str(src), "--out", str(out), "--quiet", "--grace", "5"]) == 2
