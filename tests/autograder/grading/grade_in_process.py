"""Grade notebooks one after another in ONE fresh grading process; print the records as JSON.

Used by ``test_grader_session.py``: grading must not run inside the test's own pytest session.

    python grade_in_process.py SPEC.json

SPEC: {"root": a project root holding solutions/hw1/ (assignment.toml, graders.py,
reference.py) and assignments/hw1/, or null (this checkout's), "notebooks": [paths],
"seed": int}. Prints {"results": [records], "sessions": [id of the grader session per
notebook]}.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from autograder.grading import grade
from autograder.grading.catalog import Assignment
from autograder.intake.submission import Submission
from autograder.sandbox.launch import Limits

LIMITS = Limits(cell_seconds=5, call_seconds=2, submission_seconds=30, startup_seconds=20)


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    assignment = Assignment.find("hw1", Path(spec["root"])) if spec.get("root") \
        else Assignment.find("hw1")
    results, sessions = [], []
    for path in spec["notebooks"]:
        submission = Submission(Path(path).stem, Path(path))
        result = grade.grade_submission(assignment, submission, seed=spec["seed"],
                                        limits=LIMITS)
        results.append(result.to_record())
        sessions.append([id(s) for s in grade._SESSIONS.values()])
    print(json.dumps({"results": results, "sessions": sessions}))


if __name__ == "__main__":
    main()
