"""Grade notebooks one after another in ONE fresh grading process; print the records as JSON.

Used by ``test_grader_session.py``: grading must not run inside the test's own pytest session.

    python grade_in_process.py SPEC.json

SPEC: {"grader": path or null (HW1's), "reference": path or null, "notebooks": [paths],
"seed": int}. Prints {"results": [records], "sessions": [id of the grader session per
notebook]}.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from autograder import grading
from autograder.catalog import Assignment, load_module
from autograder.intake import Submission
from autograder.manifest import read_manifest
from autograder.sandbox import Limits

LIMITS = Limits(cell_seconds=5, call_seconds=2, submission_seconds=30, startup_seconds=20)


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    assignment = Assignment.find("hw1")
    if spec.get("grader"):  # an assignment folder around the test's grader file
        grader = Path(spec["grader"])
        if Path(spec["reference"]) != grader.parent / "reference.py":
            shutil.copy(spec["reference"], grader.parent / "reference.py")
        questions = load_module(grader, "_test_grader").QUESTIONS
        toml = f'graders = "{grader.name}"\n[questions]\n'
        toml += "".join(f"{q} = {p}\n" for q, p in questions.items())
        (grader.parent / "assignment.toml").write_text(toml)
        manifest = read_manifest(grader.parent / "assignment.toml")
        assignment = Assignment("hw1", grader.parent, grader.parent / "public", manifest)
    results, sessions = [], []
    for path in spec["notebooks"]:
        submission = Submission(Path(path).stem, Path(path))
        result = grading.grade_submission(assignment, submission, seed=spec["seed"],
                                          limits=LIMITS)
        results.append(result.to_record())
        sessions.append([id(s) for s in grading._SESSIONS.values()])
    print(json.dumps({"results": results, "sessions": sessions}))


if __name__ == "__main__":
    main()
