"""The ``run`` fixture, for tests that run cells in a real sandboxed worker.

Fixtures shared by the tests of ``autograder``.
"""

from __future__ import annotations

import pytest

from autograder.grading.session import StudentSession
from autograder.intake.notebook import Cell
from autograder.sandbox import fallback


@pytest.fixture
def run():
    """Run cells in a fresh worker (one per test: a sandbox serves one worker at a time);
    return the session, its cells run, for calls and outcomes."""
    sessions = []

    def start(*sources: str) -> StudentSession:
        session = StudentSession(tuple(Cell(i, s) for i, s in enumerate(sources)), [])
        sessions.append(session)
        session.start()
        return session

    yield start
    for session in sessions:
        session.close()


@pytest.fixture(autouse=True)
def _one_submission_per_process_here(request, monkeypatch):
    """Not root, no bubblewrap and user namespaces refused: the engine grades one submission
    per process (``fallback.claim_shared``), so a test that needs another one in this process
    skips there, saying why (test_fallback.py checks the refusal itself)."""
    if request.node.path.name == "test_fallback.py":
        return
    refuse = fallback.claim_shared

    def claim() -> None:
        try:
            refuse()
        except fallback.SharedFallbackUsed as exc:
            pytest.skip(f"one submission per grading process here: {exc}")

    monkeypatch.setattr(fallback, "claim_shared", claim)
