"""The attack suite on a Dask cluster: ``--cluster local:2`` grades every hostile notebook as
the local pool does, and the sandbox on a Dask worker holds as it does in a pool process.

One module fixture writes the bubblewrap-mode attack notebooks and the honest ones with the
attack suite's own builders (``test_attacks._grade_batch``) and grades them on a real
``distributed.LocalCluster`` of 2 worker processes (no mocks) in a fresh interpreter
(``attacks/grade_batch.py``), with the suite's tight limits; the same notebooks graded with the
local pool (``jobs=2``) are ``test_attacks``'s own batch, graded once per test run
(``run_once`` in tests/conftest.py) and read by both files. The two batches' notebooks differ
only in the port and the socket name the network probe aims at (each batch has its own
listeners).

What is compared, per submission:

* the Dask record passes exactly what the attack suite asserts (``check_attack``: status,
  per-question scores, feedback, cell report, no hole, no secret, not weakened);
* status, every question's score and every test's pass/fail equal the pool's record, except
  for the attacks the suite itself calls chaotic (``at_most_base``: the naive fork bomb, the
  self-inflicted ``SIGALRM``): where their worker dies depends on timing, so on a loaded
  machine the pool alone differs from run to run (three pool runs of the same notebooks: the
  fork bomb ``graded`` with 2 points, then ``timeout`` with 0 twice; the alarm 18, 18, then 16
  points); for them only what the suite accepts is compared: status ``graded`` or ``timeout``
  and no question above the honest ``WRONG`` score;
* the message, notes, each test's feedback and the cell report equal the pool's, except for
  ``TIMED``: attacks whose text says *when* an interrupt or a kill landed (a hang stopped by
  SIGINT within the grace period or killed after it, a flood cut by the cell limit): there
  the suite's own ``feedback`` / ``cells_contain`` texts are what is compared.

And for the Dask batch as for the pool's: no sandbox process survives, the venv and the
submissions are unchanged, the host's listeners saw nothing, the out folder holds only the
engine's files and no grader or reference text.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import test_attacks as suite

from autograder.gradebook.results import SubmissionResult

TIMED = {
    "c-lie-dunders", "r-hostile-exceptions", "r-loop-top", "r-loop-top-sigint-ignored",
    "r-loop-top-catch-ki", "r-loop-function", "r-loop-function-sigint-ignored",
    "r-loop-function-catch-ki", "r-output-flood", "r-fork-bomb", "r-background-threads",
}
CHAOTIC = {attack.sid for attack in suite.ATTACKS if attack.at_most_base}


@dataclass(frozen=True)
class Pair:
    pool: suite.Batch
    dask: suite.Batch


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory, run_once) -> Pair:
    reason = suite._bwrap_skip_reason()
    if reason:
        pytest.skip(reason)
    dask = suite._grade_batch("bwrap", tmp_path_factory.mktemp("dask-attacks") / "dask",
                              cluster="local:2")
    # the pool's batch of test_attacks, graded once per run (meanwhile, by another worker)
    return Pair(suite.pool_bwrap_batch(tmp_path_factory, run_once), dask)


def outcome(result: SubmissionResult) -> tuple:
    return (result.status, result.question_scores(),
            [(t.name, t.passed) for t in result.tests])


def text(result: SubmissionResult) -> tuple:
    return (result.message, result.notes, result.cells, [(t.name, t.feedback) for t in result.tests])


def test_same_submissions_and_honest_baselines(pair: Pair) -> None:
    """Both batches graded every notebook once; the honest ones alike, to the letter."""
    assert sorted(pair.dask.results) == sorted(pair.pool.results)
    assert sorted(pair.dask.results) == sorted(p.stem for p in pair.dask.submissions.glob("*.ipynb"))
    suite.test_baselines(pair.dask)
    for sid in suite.HONEST:
        dask, pool = pair.dask.results[sid], pair.pool.results[sid]
        assert (outcome(dask), text(dask)) == (outcome(pool), text(pool)), sid


@pytest.mark.parametrize("attack", suite.ATTACKS, ids=[a.sid for a in suite.ATTACKS])
def test_attack_on_dask_as_in_the_pool(pair: Pair, attack: suite.Attack) -> None:
    """The Dask record passes the attack's own test and matches the pool's (module docstring)."""
    suite.check_attack(pair.dask, attack)
    dask, pool = pair.dask.results[attack.sid], pair.pool.results[attack.sid]
    if attack.sid in CHAOTIC:
        return  # check_attack: graded or timeout, nothing above WRONG's honest score
    assert outcome(dask) == outcome(pool), (outcome(dask), outcome(pool))
    if attack.sid not in TIMED:
        assert text(dask) == text(pool)


def test_sandbox_holds_on_dask_workers(pair: Pair) -> None:
    """What the suite checks on the host after the pool's batch holds after the Dask batch."""
    batch = pair.dask
    assert batch.escaped == [], batch.escaped
    assert batch.leftovers == [], batch.lineage
    assert batch.venv_after == batch.venv_before
    assert batch.subs_after == batch.subs_before
    assert batch.listener_hits == []
    suite.test_out_folder_has_only_engine_files(batch)
    suite.test_no_secret_reaches_any_output(batch)
