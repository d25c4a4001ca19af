"""Grade a folder of HW1 submissions in a fresh interpreter and dump the records as JSON.

Used by ``tests/autograder/test_attacks.py`` for the runs that must not share the
test process's forkserver or its cached ``bubblewrap_problem()`` (the
``AUTOGRADER_NO_BWRAP=1`` fallback): the environment of *this* process decides
the sandbox mode of every grading process it starts. With CLUSTER (``local:2``) the batch is
graded on a Dask cluster (``--cluster``) instead of the local pool; this file is then also the
main module of the LocalCluster's spawned worker processes, hence the ``__main__`` guard.

    python grade_batch.py SUBMISSIONS OUT RECORDS.json SEED [CLUSTER]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from autograder.batch.run import grade_all
from autograder.sandbox.launch import Limits, MiB

LIMITS = Limits(cell_seconds=2, call_seconds=1, submission_seconds=25,
                interrupt_grace_seconds=0.5, memory_bytes=1024 * MiB)


def main() -> None:
    source, out, records, seed = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])
    cluster = sys.argv[5] if len(sys.argv) > 5 else None
    outcome = grade_all("hw1", source, out, jobs=2, seed=seed, limits=LIMITS, cluster=cluster)
    payload = {"warning": outcome.warning, "results": [r.to_record() for r in outcome.results]}
    records.write_text(json.dumps(payload))


if __name__ == "__main__":
    main()
