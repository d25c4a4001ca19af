"""The grades a course really has: several homeworks, late days, rubrics, EX, Korean Excel,
and Blackboard uploads that update the Grade Center's existing columns."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest
from rich.console import Console

from course.cli import main

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "course" / "examples"
POLICY = (REPO / "course" / "cose474.toml").read_text()
# Shaped like Blackboard Learn's "Work Offline > Download" (full Grade Center).
GRADE_CENTER = [
    ["Last Name", "First Name", "Username", "Student ID", "Last Access", "Availability",
     "Weighted Total [Total Pts: up to 0] |1101", "Total [Total Pts: up to 100 Score] |1100",
     "Midterm [Total Pts: 20 Score] |123457", "Final Total [Total Pts: 100 Score] |123460",
     "Final Letter Grade |123461"],
    ["Kim", "Minjun", "2023001", "2023001", "2026-12-20 10:00:00", "Available", "", "", "",
     "", ""],
    ["Lee", "Seoyeon", "2023002", "2023002", "2026-12-20 11:00:00", "Available", "", "", "",
     "", ""],
]


def run(tmp_path: Path, *extra: str, policy: str = POLICY, homework: tuple[str, ...] = ()
        ) -> tuple[int, Path, str]:
    term = tmp_path / "term"
    if not term.exists():
        shutil.copytree(EXAMPLES, term)
    (term / "policy.toml").write_text(policy)
    out = tmp_path / "final"
    console = Console(file=io.StringIO(), width=200)
    code = main(["grades", "--policy", str(term / "policy.toml"),
                 "--roster", str(term / "roster.csv"),
                 "--homework", *(homework or (str(term / "hw1_gradebook.csv"),)),
                 "--scores", str(term / "scores.csv"), "--quizzes", str(term / "quizzes.csv"),
                 "--attendance", str(term / "attendance.csv"), "--out", str(out), *extra],
                console=console)
    return code, out, console.file.getvalue()


def finals(out: Path) -> dict[str, dict[str, str]]:
    with (out / "final_grades.csv").open(newline="", encoding="utf-8-sig") as handle:
        return {row["student_id"]: row for row in csv.DictReader(handle)}


def test_late_days_from_the_gradebook_and_the_late_rule(tmp_path):
    code, out, _ = run(tmp_path)
    assert code == 0 and finals(out)["2023002"]["homework"] == "17.00"  # 85% on time
    book = (tmp_path / "term" / "hw1_gradebook.csv")
    lines = book.read_text().splitlines()
    lines[0] += ",submitted_at,late_days"
    lines[1] += ",2026-09-22T23:00:00+09:00,0"
    lines[2] += ",2026-09-25T13:00:00+09:00,2"  # 85% - 2 x 10 = 65% -> 13 of 20
    lines[3] += ",2026-09-30T13:00:00+09:00,7"  # more than 3 days: 0
    lines[4:] = [line + ",," for line in lines[4:]]
    book.write_text("\n".join(lines) + "\n")
    code, out, _ = run(tmp_path)
    rows = finals(out)
    assert code == 0
    assert (rows["2023001"]["homework"], rows["2023002"]["homework"],
            rows["2023003"]["homework"]) == ("20.00", "13.00", "0.00")
    text = (out / "breakdown" / "2023003.md").read_text()
    assert "7 late day(s), over the 3 accepted: 0" in text


def test_several_homeworks_weighted_and_lowest_dropped(tmp_path):
    term = tmp_path / "term"
    shutil.copytree(EXAMPLES, term)
    (term / "hw2_gradebook.csv").write_text(
        "student_id,status,score,max_score,train\n2023001,graded,50,100,50\n"
        "2023002,graded,100,100,100\n")
    hw = (str(term / "hw1_gradebook.csv"), str(term / "hw2_gradebook.csv"))
    policy = POLICY.replace("max_late_days = 3\n", "max_late_days = 3\n"
                            "assignments = { hw1 = 1, hw2 = 3 }\n")
    code, out, _ = run(tmp_path, policy=policy, homework=hw)
    rows = finals(out)
    assert code == 0
    assert rows["2023001"]["homework"] == "12.50"  # (100 x 1 + 50 x 3) / 4 = 62.5% of 20
    assert rows["2023002"]["homework"] == "19.25"  # (85 + 300) / 4 = 96.25%
    code, out, _ = run(tmp_path, policy=POLICY.replace("max_late_days = 3\n",
                                                      "max_late_days = 3\ndrop_lowest = 1\n"),
                       homework=hw)
    assert code == 0 and finals(out)["2023001"]["homework"] == "20.00"  # 50% dropped


def test_rubric_joins_the_autograder_score_and_ex_is_excused(tmp_path):
    policy = POLICY.replace("max_late_days = 3\n", "max_late_days = 3\n\n"
                            "[components.homework.rubric.hw1]\nproof = 20\nplot = 5\n")
    term = tmp_path / "term"
    shutil.copytree(EXAMPLES, term)
    (term / "hw1_rubric.csv").write_text("student_id,proof,plot\n2023001,10,5\n2023002,EX,5\n")
    scores = (term / "scores.csv").read_text().replace("2023003,72,", "2023003,EX,")
    (term / "scores.csv").write_text(scores)
    code, out, printed = run(tmp_path, "--rubric", f"hw1={term / 'hw1_rubric.csv'}",
                             policy=policy)
    assert code == 0, printed
    rows = finals(out)
    assert rows["2023001"]["homework"] == "18.40"  # (100 + 15) / 125 = 92% of 20
    assert rows["2023002"]["homework"] == "17.14"  # proof excused: (85 + 5) / 105
    # 2023003's midterm is excused: the other 80 points of weight are scaled to 100
    assert rows["2023003"]["midterm"] == "0.00"
    breakdown = (out / "breakdown" / "2023003.md").read_text()
    assert "| midterm | EX (excused) |" in breakdown and "multiplied by 1.25" in breakdown
    assert "no row in the rubric" in (out / "breakdown" / "2023004.md").read_text()
    assert float(rows["2023003"]["total"]) == pytest.approx(
        (11.2 + 17 + 21.25 + 3.5 + 4) * 100 / 80 - 1.5, abs=0.01)  # hw1 (70+0)/125


def test_a_rubric_the_policy_does_not_declare_is_refused(tmp_path, capsys):
    rubric = tmp_path / "r.csv"
    rubric.write_text("student_id,proof\n2023001,3\n")
    code, _, _ = run(tmp_path, "--rubric", f"hw1={rubric}")
    assert code == 2
    assert "the policy has no rubric for this assignment" in capsys.readouterr().err


def test_cp949_roster_is_read_and_other_bytes_refused_with_the_line(tmp_path, capsys):
    term = tmp_path / "term"
    shutil.copytree(EXAMPLES, term)
    roster = (term / "roster.csv").read_text().replace("Kim Minjun", "김민준")
    (term / "roster.csv").write_bytes(roster.encode("cp949"))
    code, out, _ = run(tmp_path)
    assert code == 0 and finals(out)["2023001"]["name"] == "김민준"
    (term / "roster.csv").write_bytes(roster.encode("utf-8").replace(b"2023003", b"\xff\xfe\xff"))
    code, _, _ = run(tmp_path)
    err = capsys.readouterr().err
    assert code == 2 and "roster.csv:4:" in err and "CSV UTF-8" in err


@pytest.mark.parametrize("tab", [False, True], ids=["csv", "xls-utf16-tab"])
def test_final_upload_uses_the_grade_centers_exact_headers(tmp_path, tab):
    buffer = io.StringIO()
    csv.writer(buffer, delimiter="\t" if tab else ",", quoting=csv.QUOTE_ALL).writerows(
        GRADE_CENTER)
    center = tmp_path / ("gc.xls" if tab else "gc.csv")
    center.write_bytes(buffer.getvalue().encode("utf-16" if tab else "utf-8"))
    code, out, _ = run(tmp_path, "--blackboard-grade-center", str(center))
    assert code == 0
    path = out / ("blackboard_upload.xls" if tab else "blackboard_upload.csv")
    raw = path.read_bytes()
    text = raw.decode("utf-16") if tab else raw.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text), delimiter="\t" if tab else ","))
    header = rows[0]
    assert header[:4] == GRADE_CENTER[0][:4]
    for existing in ("Midterm [Total Pts: 20 Score] |123457",
                     "Final Total [Total Pts: 100 Score] |123460", "Final Letter Grade |123461"):
        assert existing in header  # exactly as downloaded: the upload updates these columns
    assert "Homework [Total Pts: 20 Score]" in header  # not in the Grade Center: a new column
    assert not any("Weighted Total" in h or h.startswith("Total [") for h in header)
    assert [r[2] for r in rows[1:]] == ["2023001", "2023002"]  # the Grade Center's students
    assert rows[1][header.index("Final Total [Total Pts: 100 Score] |123460")] == "96.25"
