"""Hostile course inputs (issue 22 item 5): numbers that hung or crashed ``course grades``,
and spreadsheet formulas that reached the Blackboard upload.

Each number below once hung (``Fraction(Decimal("1e999999999"))`` builds a
billion-digit integer) or raised a traceback (``int()`` of 5,000 digits); now
each is one problem naming file, row and column, and nothing is written.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from grades_command import grades

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "course" / "examples"
POLICY = (REPO / "course" / "cose474.toml").read_text()
HUGE = "9" * 5000


def run(tmp_path: Path, *extra: str, policy: str = POLICY) -> tuple[int, Path]:
    term = tmp_path / "term"
    if not term.exists():
        shutil.copytree(EXAMPLES, term)
    (term / "policy.toml").write_text(policy)
    out = tmp_path / "final"
    code = grades(term, term / "policy.toml", out, *extra)
    return code, out


def edit(tmp_path: Path, name: str, old: str, new: str) -> None:
    term = tmp_path / "term"
    if not term.exists():
        shutil.copytree(EXAMPLES, term)
    path = term / name
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize("value", ["1e999999999", "1e-999999999", "0e-999999999",
                                   "-1E+999999999", HUGE, "0." + HUGE, "1" + "0" * 60],
                         ids=["big-exponent", "small-exponent", "zero", "negative", "digits",
                              "decimals", "sixty-digits"])
@pytest.mark.parametrize(("file", "old", "column"), [
    ("scores.csv", "2023001,95,", "midterm"),
    ("quizzes.csv", "2023001,10,", "q1"),
    ("hw1_gradebook.csv", "2023001,graded,100,", "score"),
], ids=["scores", "quizzes", "gradebook"])
def test_out_of_range_numbers_are_one_named_problem(tmp_path, capsys, value, file, old, column):
    edit(tmp_path, file, old, old.rsplit(",", 2)[0] + f",{value},")
    code, out = run(tmp_path)
    err = capsys.readouterr().err
    assert code == 2 and not out.exists()
    assert f"{file}:2: column '{column}':" in err, err
    assert "Traceback" not in err and len(err) < 2000, err


@pytest.mark.parametrize("value", [HUGE, "1" + "0" * 12, "１２"], ids=["digits", "trillion",
                                                                       "fullwidth"])
def test_an_absence_count_out_of_range_is_one_named_problem(tmp_path, capsys, value):
    edit(tmp_path, "attendance.csv", "2023001,0", f"2023001,{value}")
    code, out = run(tmp_path)
    err = capsys.readouterr().err
    assert code == 2 and not out.exists()
    assert "attendance.csv:2: column 'absences':" in err and "Traceback" not in err


@pytest.mark.parametrize("points", [HUGE, "1.2.3", "1" + "0" * 45],
                         ids=["digits", "two-points", "forty-five-digits"])
def test_grade_center_points_out_of_range_are_a_named_problem(tmp_path, capsys, points):
    center = tmp_path / "gc.csv"
    center.write_text('"Last Name","First Name","Username",'
                      f'"Midterm [Total Pts: {points} Score] |123457"\n'
                      '"Kim","Minjun","2023001",""\n')
    code, out = run(tmp_path, "--blackboard-grade-center", str(center))
    err = capsys.readouterr().err
    assert code == 2 and not out.exists()
    assert "gc.csv:1: column 'Midterm [Total Pts:" in err and "Traceback" not in err, err


@pytest.mark.parametrize("value", ["1e999999999", "0e-999999999", HUGE],
                         ids=["big-exponent", "zero", "digits"])
def test_policy_numbers_out_of_range_are_a_policy_error(tmp_path, capsys, value):
    policy = POLICY.replace("weight = 20", f"weight = {value}", 1)
    assert policy != POLICY
    code, out = run(tmp_path, policy=policy)
    err = capsys.readouterr().err
    assert code == 2 and not out.exists()
    assert "policy.toml" in err and "Traceback" not in err, err
