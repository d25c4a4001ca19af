"""Grade notebooks against an assignment of another project root, with its own limits.

Used by ``test_torch_assignment.py`` (grading must not run inside the test's pytest session):

    python grade_with_own_limits.py ROOT NAME SEED NOTEBOOK...

Prints {"results": [records], "limits": {"address_space": ..., "startup_seconds": ...}}.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from autograder.grading.catalog import Assignment
from autograder.grading.grade import grade_submission
from autograder.intake.submission import Submission


def main() -> None:
    root, name, seed = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    assignment = Assignment.find(name, root)
    limits = assignment.limits()
    results = [grade_submission(assignment, Submission(Path(p).stem, Path(p)), seed=seed,
                                limits=limits).to_record() for p in sys.argv[4:]]
    print(json.dumps({"results": results, "limits": {
        "address_space": limits.address_space, "startup_seconds": limits.startup_seconds}}))


if __name__ == "__main__":
    main()
