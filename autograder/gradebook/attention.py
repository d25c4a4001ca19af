"""What a person should look at in one student's result, besides a failed grading.

Read from the result every output shows (``ledger.current``): lateness
(``extra["late_days"]``), the student's words on the Blackboard receipts
(comments and submission text of every attempt, ``extra["blackboard"]``), and
the regrades granted (``extra["regrades"]``). The terminal summary and the
report's "Needs a person" both list these, so neither misses one.
"""

from __future__ import annotations

from typing import Any

from . import safetext
from .results import SubmissionResult

MAX_SHOWN = 300  # characters of one comment shown; the TA log has it whole


def reasons(result: SubmissionResult) -> list[str]:
    """Late, receipt comments, regrades: one short line each (student text made one line)."""
    extra: dict[str, Any] = result.extra if isinstance(result.extra, dict) else {}
    found = []
    late = extra.get("late_days")
    if isinstance(late, int | float) and not isinstance(late, bool) and late > 0:
        found.append(f"{late:g} day(s) late")
    receipts = extra.get("blackboard")
    attempts = receipts.get("attempts", []) if isinstance(receipts, dict) else []
    for attempt in attempts if isinstance(attempts, list) else []:
        if not isinstance(attempt, dict):
            continue
        for key, label in (("comments", "comment"), ("text", "submission text")):
            words = " ".join(str(attempt.get(key) or "").split())
            if words:
                if len(words) > MAX_SHOWN:
                    words = words[:MAX_SHOWN] + "…"
                found.append(f"receipt {label}: \"{safetext.one_line(words)}\"")
    regrades = extra.get("regrades")
    found += [str(r) for r in regrades] if isinstance(regrades, list) else []
    return found
