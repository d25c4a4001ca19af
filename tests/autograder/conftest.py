"""The ``run`` fixture, for tests that run cells in a real sandboxed worker.

Fixtures shared by the tests of ``autograder``.
"""

from __future__ import annotations

import pytest

from autograder.grading.session import StudentSession
from autograder.intake.notebook import Cell


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
