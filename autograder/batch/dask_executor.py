"""Grade on a Dask cluster: the same sandboxed engine on more machines' cores.

``python -m autograder grade hw1 SUBS --out OUT --cluster tcp://HOST:8786`` sends
each submission to the workers of a running Dask scheduler (a SLURM allocation
through dask-jobqueue, a Kubernetes deployment, ``dask scheduler`` +
``dask worker --nthreads 1`` by hand); ``--cluster local:N`` starts a
``distributed.LocalCluster`` of N worker processes on this machine. Everything
else is ``batch.run.grade_all``'s: the resume rules, the gradebook (written by this,
the TA's, process only, one transaction per result as it arrives), the exports
and the exit codes are the same as with the local pool.

What travels to a worker: the student id, the submitted file's bytes (at most
one byte over the notebook size limit, so an oversized file is still refused
there), the assignment's name and grader version, the seed and the limits.
What comes back: the result record (``SubmissionResult.to_record()``, plain
data). The graders, the reference and the public files are read from the
worker's own install of this project (the same checkout on a shared file
system, or the same version installed on every node): a worker whose install
has a different grader version refuses the work, and the submission gets an
``error`` record naming both versions (retried by the next run), so a stale
node never mixes versions in one gradebook. On the worker the submission is
graded by ``grading.grade.grade_submission`` exactly as in a local grading process:
hidden graders in the worker process, student code in that machine's
bubblewrap sandbox, which the graders and the reference never enter.

A Dask worker process keeps one warm sandbox and one grader session, as a
process of the local pool does, so it must run one task at a time (``--nthreads
1``; ``local:N`` does so); a lock serializes tasks anyway. A worker that dies
mid-submission (killed, out of memory, its machine gone) costs a retry: the
scheduler runs the task again elsewhere; after ``distributed.scheduler.
allowed-failures`` deaths with the same task (default 3) it fails with
``KilledWorker`` and the submission gets an ``error`` record, as when the local
pool gives up on a submission.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import re
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..errors import AutograderError
from ..gradebook.results import SubmissionResult
from ..grading.catalog import Assignment
from ..intake.notebook import MAX_NOTEBOOK_BYTES
from ..intake.submission import Submission
from ..sandbox.launch import Limits

LOCAL = re.compile(r"local:(\d{1,3})")
ADDRESS = re.compile(r"(tcp|tls|inproc|ucx|ws|wss)://\S+")
CONNECT_SECONDS = 60
_ONE_AT_A_TIME = threading.Lock()


class ClusterError(AutograderError):
    """A ``--cluster`` value that is not an address, or a scheduler that cannot be reached."""


class GraderVersionMismatch(Exception):
    """This worker's install of the graders is not the version the TA's batch decided on."""


@dataclasses.dataclass(frozen=True)
class Payload:
    """One submission as it travels to a worker: the file's bytes, not its path."""

    student_id: str
    name: str  # the file's name, kept so the notebook reads exactly as it did locally
    data: bytes | None
    problem: str
    notes: tuple[str, ...]
    source: str  # ``Submission.display_path`` on the TA's machine

    @classmethod
    def of(cls, submission: Submission) -> Payload:
        data = None
        if submission.path is not None and not submission.problem:
            with contextlib.suppress(OSError), submission.path.open("rb") as handle:
                data = handle.read(MAX_NOTEBOOK_BYTES + 1)  # unreadable: the worker says so
        name = submission.path.name if submission.path is not None else ""
        return cls(submission.student_id, name, data, submission.problem, submission.notes,
                   submission.display_path)


def run_dask(assignment: Assignment, work: list[tuple[Submission, str]], seed: int,
             limits: Limits, cluster: str, version: str,
             record: Callable[[SubmissionResult, str], None]) -> None:
    """Grade ``work`` on ``cluster``; ``record`` each result in this process as it arrives."""
    from distributed import as_completed

    if not work:
        return
    with _client(cluster) as client:
        futures = {client.submit(grade_payload, assignment.name, version, Payload.of(sub), seed,
                                 limits, pure=False): (sub, sha256) for sub, sha256 in work}
        try:
            for future in as_completed(futures):
                submission, sha256 = futures[future]
                record(_result_of(future, submission, assignment, seed, version), sha256)
        except BaseException:
            client.cancel(list(futures))
            raise


def grade_payload(name: str, version: str, payload: Payload, seed: int,
                  limits: Limits) -> dict[str, Any]:
    """On a Dask worker: grade one submission in this process; its result record."""
    from ..grading.grade import grade_submission

    with _ONE_AT_A_TIME:
        assignment = _assignment(name)
        if assignment.version != version:
            raise GraderVersionMismatch(
                f"this worker's install has grader version {assignment.version} of {name!r}, "
                f"the batch grades with {version}; install the same checkout on every node")
        with tempfile.TemporaryDirectory(prefix="autograder-dask-") as folder:
            path = None
            if payload.data is not None:
                path = Path(folder) / (payload.name or "submission.ipynb")
                path.write_bytes(payload.data)
            elif payload.name and not payload.problem:  # it could not be read on the TA's side
                path = Path(folder) / "missing" / payload.name
            submission = Submission(payload.student_id, path, payload.problem, payload.notes,
                                    root=Path(folder))
            result = grade_submission(assignment, submission, seed=seed, limits=limits)
    return dataclasses.replace(result, source=payload.source).to_record()


@functools.lru_cache(maxsize=4)
def _assignment(name: str) -> Assignment:
    return Assignment.find(name)


def check_cluster(cluster: str) -> None:
    """ClusterError unless ``cluster`` is ``local:N`` (N >= 1) or a scheduler address."""
    local = LOCAL.fullmatch(cluster)
    if local and int(local.group(1)) < 1:
        raise ClusterError(f"--cluster {cluster}: at least one worker (local:1)")
    if not local and not ADDRESS.fullmatch(cluster):
        raise ClusterError(f"--cluster {cluster!r}: expected a scheduler address "
                           "(tcp://HOST:8786) or local:N")


def local_security() -> dict[str, Any]:
    """``LocalCluster`` keywords that close ``local:N`` to every other local user.

    TLS with a key and a self-signed certificate generated for this run, in
    memory only (``Security.temporary()``: the scheduler, the workers and this
    client hold it; nothing is written to disk), with ``require_encryption``:
    a client without the run's certificate cannot complete the handshake, so
    another user of the machine cannot connect (and ``client.run`` as the
    grader) while the batch runs. Every listener on 127.0.0.1, the scheduler's
    HTTP server included (``:0``: a free port; it starts even without a
    dashboard and would otherwise take 8787 on every interface).
    """
    from distributed.security import Security

    return {"security": Security.temporary(), "protocol": "tls://", "host": "127.0.0.1",
            "dashboard_address": "127.0.0.1:0"}


@contextlib.contextmanager
def _client(cluster: str) -> Iterator[Any]:
    """A Dask client of ``tcp://HOST:PORT`` (or another Dask address) or of a new LocalCluster."""
    from distributed import Client, LocalCluster

    check_cluster(cluster)
    local = LOCAL.fullmatch(cluster)
    if local:
        workers = int(local.group(1))
        # CRITICAL: at the cluster's close a worker's heartbeat can race the scheduler's
        # shutdown and log an ERROR traceback after a successful run (dask/distributed
        # #7105, #9032); everything a TA needs (a failed or killed task) comes back through
        # the futures and is printed by ``_result_of``.
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          **local_security(), silence_logs=logging.CRITICAL) as local_cluster, \
                Client(local_cluster, security=local_cluster.security) as client:
            yield client
        return
    if cluster.startswith("tcp://"):
        print(f"autograder: --cluster {cluster}: plain TCP, neither encrypted nor authenticated: "
              "anyone who reaches the scheduler runs code on it and its workers as their "
              "user; use tls:// with certificates (docs/cluster.md)", file=sys.stderr)
    try:
        client = Client(cluster, timeout=CONNECT_SECONDS)
    except OSError as exc:
        raise ClusterError(f"--cluster {cluster}: cannot reach the Dask scheduler ({exc})") from None
    with client:
        yield client


def _result_of(future: Any, submission: Submission, assignment: Assignment, seed: int,
               version: str) -> SubmissionResult:
    try:
        return SubmissionResult.from_record(future.result())  # version checked by the worker
    except Exception as exc:  # noqa: BLE001 - the task failed (KilledWorker, a stale node)
        print(f"autograder: grading {submission.student_id} on the cluster failed: "
              f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return SubmissionResult(
            student_id=submission.student_id, status="error", max_score=assignment.max_score,
            questions=assignment.questions, seed=seed, source=submission.display_path,
            message=f"grading on the cluster failed ({type(exc).__name__}: {str(exc)[:300]}); "
                    "nothing was scored", grader_version=version)
