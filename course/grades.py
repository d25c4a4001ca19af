"""The ``grades`` command: inputs -> final grades -> every report, all or nothing.

Outputs (in ``out``): ``final_grades.csv``, ``breakdown/<student_id>.md``,
``summary.md``, ``histogram.png`` and ``blackboard_upload.csv`` (``.xls`` when the
Grade Center download given was Blackboard's tab-delimited one).  They are
first written to a staging directory next to ``out`` and moved into place
only when all of them exist, so a failed run leaves ``out`` as it was.
"""

from __future__ import annotations

import csv
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from course.blackboard import blackboard_upload
from course.errors import InputErrors, InputProblem, OutputError
from course.gradecenter import GradeCenter, GradeCenterError, read_grade_center, upload_name
from course.histogram import write_histogram
from course.inputs import load_inputs
from course.policy import Policy
from course.policy_toml import load_policy
from course.report import breakdown_markdown, final_grades_rows, summary_markdown
from course.scoring import StudentGrade, grade_all
from course.spreadsheet import spreadsheet_row

OUTPUT_NAMES = (
    "final_grades.csv",
    "breakdown",
    "summary.md",
    "histogram.png",
    "blackboard_upload.csv",
)


def main(
    *,
    policy: Path,
    roster: Path,
    out: Path,
    homework: Sequence[Path] = (),
    scores: Path | None = None,
    quizzes: Path | None = None,
    attendance: Path | None = None,
    late_days: Path | None = None,
    rubrics: Mapping[str, Path] | None = None,
    grade_center: Path | None = None,
) -> tuple[Policy, tuple[StudentGrade, ...]]:
    """Grade everyone and write the reports; raises a CourseError before writing anything."""
    loaded = load_policy(Path(policy))
    center = None
    if grade_center is not None:
        try:
            center = read_grade_center(grade_center)
        except GradeCenterError as error:
            raise InputErrors([InputProblem(str(grade_center), None, None, str(error))]) from None
    inputs = load_inputs(
        loaded,
        roster=roster,
        homework=homework,
        scores=scores,
        quizzes=quizzes,
        attendance=attendance,
        late_days=late_days,
        rubrics=rubrics,
    )
    grades = grade_all(loaded, inputs)
    write_reports(out, loaded, grades, policy_file=str(policy), center=center)
    return loaded, grades


def write_reports(
    out: Path,
    policy: Policy,
    grades: Sequence[StudentGrade],
    policy_file: str,
    center: GradeCenter | None = None,
) -> None:
    """Write every output into ``out`` at once (staged, then moved into place)."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}.") as staging:
            _write_all(Path(staging), policy, grades, policy_file, center)
            out.mkdir(exist_ok=True)
            for name in (*OUTPUT_NAMES, "blackboard_upload.xls"):
                if not (Path(staging) / name).exists():
                    continue
                target = out / name
                if target.is_dir():
                    shutil.rmtree(target)
                (Path(staging) / name).replace(target)
    except OSError as error:
        raise OutputError(f"{out}: cannot write the reports: {error}") from error


def _write_all(
    directory: Path,
    policy: Policy,
    grades: Sequence[StudentGrade],
    policy_file: str,
    center: GradeCenter | None,
) -> None:
    # for people: a BOM, so that Korean Excel reads the names as UTF-8
    with (directory / "final_grades.csv").open("w", newline="", encoding="utf-8-sig") as handle:
        csv.writer(handle).writerows(map(spreadsheet_row, final_grades_rows(policy, grades)))
    breakdown = directory / "breakdown"
    breakdown.mkdir()
    for grade in grades:
        text = breakdown_markdown(policy, grade, policy_file)
        (breakdown / f"{grade.student.student_id}.md").write_text(text, encoding="utf-8")
    (directory / "summary.md").write_text(summary_markdown(policy, grades), encoding="utf-8")
    write_histogram(policy, grades, directory / "histogram.png")
    text, encoding = blackboard_upload(policy, grades, center)
    (directory / upload_name(center)).write_bytes(text.encode(encoding))
