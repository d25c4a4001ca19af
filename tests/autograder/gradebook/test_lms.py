"""Per-assignment Blackboard upload headers, and Gradescope's results.json conventions."""

from __future__ import annotations

import csv
import io

import pytest

from autograder.gradebook.lms import write_assignment_upload
from autograder.gradebook.results import SubmissionResult, TestOutcome

# Shaped like Blackboard Learn's "Work Offline > Download" of the full Grade Center.
GRADE_CENTER_HEADER = ["Last Name", "First Name", "Username", "Student ID", "Last Access",
                       "Availability", "Weighted Total [Total Pts: up to 0] |1101",
                       "Total [Total Pts: up to 200 Score] |1100",
                       "HW1 [Total Pts: 100 Score] |123456",
                       "Midterm [Total Pts: 50 Score] |123457"]
GRADE_CENTER_ROWS = [
    ["Kim", "Minjun", "kim_mj", "2023001", "2026-10-02 10:00:00", "Available", "", "", "", ""],
    ["박", "지호", "2023002", "2023002", "2026-10-02 11:00:00", "Available", "", "", "", ""],
]


def grade_center(path, *, tab: bool) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t" if tab else ",", quoting=csv.QUOTE_ALL)
    writer.writerows([GRADE_CENTER_HEADER, *GRADE_CENTER_ROWS])
    path.write_bytes(buffer.getvalue().encode("utf-16" if tab else "utf-8"))


def gradebook(out) -> None:
    out.mkdir()
    (out / "gradebook.csv").write_text(
        "student_id,status,score,max_score,q1,submitted_at,late_days\n"
        "kim_mj,graded,85,100,85,,\n2023002,graded,70.5,100,70.5,,\nnot_enrolled,graded,1,100,1,,\n")


@pytest.mark.parametrize("tab", [False, True], ids=["csv", "xls-utf16-tab"])
def test_upload_uses_the_grade_centers_exact_headers(tmp_path, tab):
    center, out = tmp_path / ("gc.xls" if tab else "gc.csv"), tmp_path / "out"
    grade_center(center, tab=tab)
    gradebook(out)
    path, skipped = write_assignment_upload(out, "hw1", center)
    assert path.name == ("blackboard_upload.xls" if tab else "blackboard_upload.csv")
    raw = path.read_bytes()
    text = raw.decode("utf-16") if tab else raw.decode("utf-8")
    assert raw.startswith(b"\xff\xfe") == tab
    rows = list(csv.reader(io.StringIO(text), delimiter="\t" if tab else ","))
    assert rows[0] == ["Last Name", "First Name", "Username", "Student ID",
                       "HW1 [Total Pts: 100 Score] |123456"]
    assert set(rows[0]) <= set(GRADE_CENTER_HEADER)
    assert rows[1] == ["Kim", "Minjun", "kim_mj", "2023001", "85"]
    assert rows[2] == ["박", "지호", "2023002", "2023002", "70.50"]
    assert skipped == ["not_enrolled"]
    first_line = text.split("\r\n")[0]
    assert first_line.startswith('"Last Name"')  # every field quoted


def test_without_a_matching_column_a_new_numeric_column(tmp_path):
    center, out = tmp_path / "gc.csv", tmp_path / "out"
    grade_center(center, tab=False)
    gradebook(out)
    path, _ = write_assignment_upload(out, "hw2", center)
    header = next(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert header[-1] == "hw2 [Total Pts: 100 Score]"


def test_gradescope_formats_and_execution_time():
    result = SubmissionResult(
        student_id="a", status="graded", max_score=10, questions={"q": 10.0},
        tests=(TestOutcome("`f(0)` returns 0", "q", 10, False, "got `1`"),), seconds=2.2)
    data = result.to_gradescope()
    assert data["execution_time"] == 3 and data["output_format"] == "text"
    assert data["tests"][0]["name_format"] == "md" and data["tests"][0]["output_format"] == "md"


def test_the_column_named_like_the_blackboard_title_is_updated_and_scaled(tmp_path):
    center, out = tmp_path / "gc.csv", tmp_path / "out"
    header = [*GRADE_CENTER_HEADER[:6], "HW1_Perceptrons [Total Pts: 10 Score] |1563210",
              "Midterm [Total Pts: 50 Score] |123457"]
    rows = [[*row[:6], "", ""] for row in GRADE_CENTER_ROWS]
    center.write_text("\n".join(",".join(f'"{c}"' for c in r) for r in [header, *rows]) + "\n",
                      encoding="utf-8")
    gradebook(out)
    path, _ = write_assignment_upload(out, "hw1", center, titles=["HW1_Perceptrons"])
    got = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert got[0][-1] == "HW1_Perceptrons [Total Pts: 10 Score] |1563210"  # updated, no new one
    assert [r[-1] for r in got[1:]] == ["8.50", "7.05"]
    assert len(got[0]) == 5  # 85/100 and 70.5/100 of 10 points
    # --blackboard-column still wins over the title
    path, _ = write_assignment_upload(out, "hw1", center, "Midterm", titles=["HW1_Perceptrons"])
    assert next(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))[-1] == \
        "Midterm [Total Pts: 50 Score] |123457"


def test_grade_finds_the_column_from_the_receipts_and_checks_the_file_first(tmp_path, capsys):
    from tests_support_bb import receipt_download

    from autograder.cli import main

    src, out, center = tmp_path / "in", tmp_path / "out", tmp_path / "gc.csv"
    receipt_download(src, "kim_mj", title="HW1_Perceptrons")
    header = [*GRADE_CENTER_HEADER[:6], "HW1_Perceptrons [Total Pts: 10 Score] |1563210"]
    rows = [[*row[:6], ""] for row in GRADE_CENTER_ROWS]
    center.write_text("\n".join(",".join(f'"{c}"' for c in r) for r in [header, *rows]) + "\n",
                      encoding="utf-8")
    assert main(["grade", "hw1", str(src), "--out", str(out), "--quiet",
                 "--blackboard-grade-center", str(center)]) == 0
    upload = list(csv.reader(io.StringIO((out / "blackboard_upload.csv").read_text("utf-8"))))
    assert upload[0][-1] == "HW1_Perceptrons [Total Pts: 10 Score] |1563210"
    assert len(upload[0]) == 5
    capsys.readouterr()
    # a wrong path is an error before anything is graded
    assert main(["grade", "hw1", str(src), "--out", str(tmp_path / "other"), "--quiet",
                 "--blackboard-grade-center", str(tmp_path / "nope.csv")]) == 2
    assert "nope.csv" in capsys.readouterr().out
    assert not (tmp_path / "other" / "gradebook.sqlite").exists()
    center.write_text("not,a,grade,center\n1,2,3,4\n", encoding="utf-8")
    assert main(["grade", "hw1", str(src), "--out", str(tmp_path / "third"), "--quiet",
                 "--blackboard-grade-center", str(center)]) == 2
    assert not (tmp_path / "third" / "gradebook.sqlite").exists()


def test_without_receipts_a_column_whose_name_starts_with_the_assignment_is_found(tmp_path):
    from autograder.errors import AutograderError

    center, out = tmp_path / "gc.csv", tmp_path / "out"
    header = [*GRADE_CENTER_HEADER[:6], "HW1_Perceptrons [Total Pts: 10 Score] |1563210",
              "HW10 Transformers [Total Pts: 10 Score] |1563299"]
    rows = [[*row[:6], "", ""] for row in GRADE_CENTER_ROWS]
    center.write_text("\n".join(",".join(f'"{c}"' for c in r) for r in [header, *rows]) + "\n",
                      encoding="utf-8")
    gradebook(out)
    path, _ = write_assignment_upload(out, "hw1", center)  # plain files: no receipt title
    assert next(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))[-1] == \
        "HW1_Perceptrons [Total Pts: 10 Score] |1563210"
    header.append("HW1 Written [Total Pts: 5 Score] |1563211")
    rows = [[*r, ""] for r in rows]
    center.write_text("\n".join(",".join(f'"{c}"' for c in r) for r in [header, *rows]) + "\n",
                      encoding="utf-8")
    with pytest.raises(AutograderError, match="--blackboard-column"):
        write_assignment_upload(out, "hw1", center)


def test_a_blackboard_column_that_is_not_in_the_file_is_an_error_before_grading(tmp_path,
                                                                                capsys):
    from autograder.cli import main

    center, src = tmp_path / "gc.csv", tmp_path / "in"
    grade_center(center, tab=False)
    src.mkdir()
    (src / "kim_mj.ipynb").write_text("{ not a notebook")
    assert main(["grade", "hw1", str(src), "--out", str(tmp_path / "out"), "--quiet",
                 "--blackboard-grade-center", str(center),
                 "--blackboard-column", "HW1 Perceptron"]) == 2
    printed = capsys.readouterr().out
    assert "'HW1 Perceptron'" in printed and "HW1 [Total Pts: 100 Score] |123456" in printed
    assert not (tmp_path / "out" / "gradebook.sqlite").exists()


@pytest.mark.parametrize("tab", [False, True], ids=["csv", "xls-utf16-tab"])
def test_upload_cells_are_never_formulas(tmp_path, tab):
    """Issue 22 item 5: Grade Center name cells reach ``grade --blackboard-grade-center``'s
    upload; a spreadsheet must show them as text (numbers stay numbers)."""
    formulas = ['=HYPERLINK("http://x.example","x")', "+cmd|' /C calc'!A0", "@SUM(1+1)",
                " =1+1", "\uff1d1+1"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t" if tab else ",", quoting=csv.QUOTE_ALL)
    writer.writerows([GRADE_CENTER_HEADER,
                      [formulas[0], formulas[1], "kim_mj", formulas[2], "", "", "", "", "", ""],
                      [formulas[3], formulas[4], "2023002", "2023002", "", "", "", "", "", ""]])
    center, out = tmp_path / ("gc.xls" if tab else "gc.csv"), tmp_path / "out"
    center.write_bytes(buffer.getvalue().encode("utf-16" if tab else "utf-8"))
    gradebook(out)
    path, _ = write_assignment_upload(out, "hw1", center)
    text = path.read_bytes().decode("utf-16" if tab else "utf-8")
    rows = list(csv.reader(io.StringIO(text), delimiter="\t" if tab else ","))
    assert rows[1] == ["'" + formulas[0], "'" + formulas[1], "kim_mj", "'" + formulas[2], "85"]
    assert rows[2] == ["'" + formulas[3].strip(), "'" + formulas[4], "2023002", "2023002", "70.50"]
