"""``python -m course``: argument parsing and the one place errors become exit codes.

Commands live in their own modules (``grades`` in :mod:`course.grades`);
this module only assembles them.  Exit codes: 0 success, 2 bad policy or
input (every problem printed, one per line, nothing written), 1 the reports
could not be written.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from course import grades
from course.errors import CourseError, InputErrors, InputProblem
from course.report import grade_table


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m course", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser(
        "grades",
        help="compute final grades and write the reports",
        description="Turn homework gradebooks, scores, quizzes and attendance into final grades.",
    )
    command.add_argument(
        "--policy", type=Path, required=True, help="policy TOML, e.g. course/cose474.toml"
    )
    command.add_argument("--roster", type=Path, required=True, help="roster.csv: student_id,name")
    command.add_argument(
        "--homework",
        type=Path,
        nargs="+",
        default=[],
        metavar="GRADEBOOK",
        help="autograder gradebooks; the assignment is the folder of DIR/gradebook.csv"
        " or NAME of NAME_gradebook.csv",
    )
    command.add_argument(
        "--scores", type=Path, help="scores.csv: student_id then one column per score"
    )
    command.add_argument(
        "--quizzes", type=Path, help="quizzes.csv: student_id then one column per quiz (a blank cell: 0)"
    )
    command.add_argument(
        "--attendance",
        type=Path,
        help="attendance.csv: student_id,absences, or the per-class sheet student_id,<class 1>,"
        "<class 2>,... with P (present), A (absent), E (excused), L (late: present unless the "
        "policy's lates_per_absence says otherwise)",
    )
    command.add_argument(
        "--late-days",
        type=Path,
        help="late_days.csv: student_id then one column per assignment (days late)",
    )
    command.add_argument(
        "--rubric",
        action="append",
        default=[],
        metavar="ASSIGNMENT=CSV",
        help="hand-graded part of an assignment: student_id + the policy's rubric columns"
        " (EX = excused); repeat per assignment",
    )
    command.add_argument(
        "--blackboard-grade-center",
        type=Path,
        metavar="FILE",
        help="the Grade Center file downloaded from Blackboard (Work Offline); the upload"
        " then updates its existing columns",
    )
    command.add_argument("--out", type=Path, required=True, help="output directory")
    return parser


def main(argv: Sequence[str] | None = None, console: Console | None = None) -> int:
    """Run one command; return the process exit code."""
    args = build_parser().parse_args(argv)
    console = console or Console(width=None if _is_terminal() else 200)
    errors = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        policy, results = grades.main(
            policy=args.policy,
            roster=args.roster,
            out=args.out,
            homework=args.homework,
            scores=args.scores,
            quizzes=args.quizzes,
            attendance=args.attendance,
            late_days=args.late_days,
            rubrics=_rubrics(args.rubric),
            grade_center=args.blackboard_grade_center,
        )
    except InputErrors as error:
        for problem in error.problems:
            errors.print(str(problem), markup=False)
        errors.print(f"{len(error.problems)} input problem(s); nothing was written.", markup=False)
        return error.exit_code
    except CourseError as error:
        errors.print(f"error: {error}", markup=False)
        return error.exit_code
    console.print(grade_table(policy, results))
    console.print(f"Wrote the reports to {args.out}/", markup=False, highlight=False)
    return 0


def _rubrics(values: list[str]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for value in values:
        name, sep, path = value.partition("=")
        if not sep or not name or not path:
            raise InputErrors([InputProblem("--rubric", None, None, f"{value!r}: use NAME=FILE")])
        found[name] = Path(path)
    return found


def _is_terminal() -> bool:
    return Console().is_terminal
