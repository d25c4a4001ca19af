"""End to end: `python -m course grades` on course/examples, and its failure modes."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from course.cli import main

REPO = Path(__file__).resolve().parents[2]
TERM = REPO / "course" / "examples"
STUDENTS = [*(f"20230{n:02d}" for n in range(1, 9)), "kim_mj", "lee_sy_2"]
OUTPUTS = ("final_grades.csv", "summary.md", "histogram.png", "blackboard_upload.csv")


def grades_argv(
    term: Path, out: Path, policy: Path = REPO / "course" / "cose474.toml"
) -> list[str]:
    return [
        "grades",
        "--policy", str(policy),
        "--roster", str(term / "roster.csv"),
        "--homework", str(term / "hw1_gradebook.csv"),
        "--scores", str(term / "scores.csv"),
        "--quizzes", str(term / "quizzes.csv"),
        "--attendance", str(term / "attendance.csv"),
        "--out", str(out),
    ]  # fmt: skip


def run(argv: list[str]) -> tuple[int, str]:
    """Run the CLI in-process; return the exit code and what it printed to stdout."""
    console = Console(file=io.StringIO(), width=200)
    code = main(argv, console=console)
    return code, console.file.getvalue()  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def example_out(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("final") / "final"
    code, printed = run(grades_argv(TERM, out))
    assert code == 0
    return out, printed


def test_example_term_writes_every_output(example_out: tuple[Path, str]) -> None:
    out, _ = example_out
    for name in OUTPUTS:
        assert (out / name).is_file(), name
    assert sorted(p.name for p in (out / "breakdown").iterdir()) == [
        f"{student}.md" for student in STUDENTS
    ]
    assert (out / "histogram.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_example_term_exact_totals(example_out: tuple[Path, str]) -> None:
    """Hand-computed (see course/examples/README.md):

    2023001: 20 + 19 + 23 + 24.5 + 4.75 + 5 - 0 = 96.25 -> A+
    2023002: 17 + 19 + 23 + 23 + 3.995 + 4.5 - 0.5 = 89.995 -> 90.00 -> A0
    2023007: no hw1 row -> 0; 18.2 + 22.25 + 23.25 + 4.5 + 4.5 = 72.70 -> C0
    2023008: no hw1 row -> 0; 8 + 8.75 + 12.5 + 2 + 2.5 - 6 x 0.5 = 30.75 -> F
    """
    out, _ = example_out
    assert (out / "final_grades.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # Korean Excel
    with (out / "final_grades.csv").open(newline="", encoding="utf-8-sig") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert list(rows) == STUDENTS
    assert [rows[s]["total"] for s in ("kim_mj", "lee_sy_2")] == ["69.85", "63.75"]
    assert [rows[s]["total"] for s in ("2023001", "2023002", "2023007", "2023008")] == [
        "96.25", "90.00", "72.70", "30.75",
    ]  # fmt: skip
    assert [rows[s]["letter"] for s in ("2023001", "2023002", "2023007", "2023008")] == [
        "A+", "A0", "C0", "F",
    ]  # fmt: skip
    assert rows["2023008"]["attendance_deduction"] == "3.00"
    assert rows["2023002"]["quiz"] == "4.00"  # 3.995 reported half-up
    assert list(rows["2023001"]) == [
        "student_id", "name", "homework", "midterm", "final", "project", "quiz", "participation",
        "attendance_deduction", "total", "letter",
    ]  # fmt: skip


def test_breakdown_explains_the_grade(example_out: tuple[Path, str]) -> None:
    """The breakdown shows inputs, percentages, the exact total, the letter rule and warnings."""
    out, _ = example_out
    text = (out / "breakdown" / "2023002.md").read_text()
    assert (
        "| hw1 | 85 | 100 | 85.00% | status graded; perceptron 15, sigmoid 10, neural_network 25,"
        in text
    )
    assert "| q10 | 7.9 | 10 | 79.00% |  |" in text
    assert "| quiz | 79.90% | 5 | 4.00 |" in text
    assert "- total: 89.995, reported as **90.00**" in text
    assert "- letter: **A0**: 90.00 >= 90, the A0 cutoff; A+ needs 95" in text
    missing = (out / "breakdown" / "2023007.md").read_text()
    assert "- hw1: no row in " in missing and "hw1_gradebook.csv; counted as 0" in missing
    timeout = (out / "breakdown" / "2023004.md").read_text()
    assert "- hw1: autograder status 'timeout'; counted the score it recorded (35 / 100)" in timeout


def test_summary_has_the_distribution(example_out: tuple[Path, str]) -> None:
    out, _ = example_out
    text = (out / "summary.md").read_text()
    for row in (
        "| A+ | 1 | 10.00% |",
        "| C0 | 2 | 20.00% |",
        "| F | 2 | 20.00% |",
        "| D+ | 1 | 10.00% |",
        "| B0 | 0 | 0.00% |",
    ):
        assert row in text
    assert "![histogram of totals](histogram.png)" in text


def test_blackboard_upload_quotes_every_field(example_out: tuple[Path, str]) -> None:
    out, _ = example_out
    lines = (out / "blackboard_upload.csv").read_text().splitlines()
    assert lines[0].startswith('"Username","Homework [Total Pts: 20 Score]",')
    assert lines[0].endswith('"Final Total [Total Pts: 100 Score]","Final Letter Grade"')
    assert lines[2] == '"2023002","17.00","19.00","23.00","23.00","4.00","4.50","0.50","90.00","A0"'
    assert all(re.fullmatch(r'"[^"]*"(,"[^"]*")*', line) for line in lines)


def test_terminal_table(example_out: tuple[Path, str]) -> None:
    """The final-grade table is printed with plain ASCII borders, one row per student."""
    _, printed = example_out
    row = next(line for line in printed.splitlines() if "2023002" in line)
    assert re.search(r"\| 2023002 +\| Lee Seoyeon .*\| 90\.00 \| +A0 \|", row)


def bad_scores(term: Path) -> None:
    path = term / "scores.csv"
    path.write_text(path.read_text().replace("2023003,72,", "2023003,abc,"))


def test_bad_input_exit_2_and_nothing_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """All problems on stderr (one per line), exit code 2, and the output directory untouched."""
    term = tmp_path / "term"
    term.mkdir()
    for source in TERM.glob("*.csv"):
        (term / source.name).write_text(source.read_text())
    bad_scores(term)
    (term / "attendance.csv").write_text("student_id,absences\n2023001,x\n")
    out = tmp_path / "final"
    code, printed = run(grades_argv(term, out))
    errors = capsys.readouterr().err.splitlines()
    assert code == 2
    assert printed == ""
    assert errors[0] == f"{term / 'scores.csv'}:4: column 'midterm': 'abc' is not a number"
    assert (
        errors[1]
        == f"{term / 'attendance.csv'}:2: column 'absences': 'x' is not a whole number >= 0"
    )
    assert errors[-1] == "11 input problem(s); nothing was written."  # 2 cells + 9 absent
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["term"]  # no staging directory left


def test_bad_policy_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "p.toml"
    policy.write_text(
        (REPO / "course" / "cose474.toml").read_text().replace("weight = 25", "weight = 30", 1)
    )
    code, _ = run(grades_argv(TERM, tmp_path / "out", policy=policy))
    assert code == 2
    assert capsys.readouterr().err.strip() == (
        f"error: {policy}: key 'components': weights must sum to 100, got 105"
    )


def test_rerun_replaces_outputs(tmp_path: Path) -> None:
    """A second run into the same directory replaces the reports, including stale breakdowns."""
    out = tmp_path / "final"
    (out / "breakdown").mkdir(parents=True)
    (out / "breakdown" / "old-student.md").write_text("stale")
    (out / "notes.txt").write_text("mine")
    assert run(grades_argv(TERM, out))[0] == 0
    assert not (out / "breakdown" / "old-student.md").exists()
    assert (out / "notes.txt").read_text() == "mine"


def test_python_dash_m_course(tmp_path: Path) -> None:
    """The real entry point, run exactly like `make demo` (relative paths from the repo root)."""
    out = tmp_path / "final"
    argv = [
        sys.executable,
        "-m",
        "course",
        *grades_argv(TERM.relative_to(REPO), out, Path("course/cose474.toml")),
    ]
    done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "Final grades" in done.stdout and "30.75" in done.stdout
    assert (out / "breakdown" / "2023008.md").is_file()
