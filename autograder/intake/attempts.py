"""The Blackboard half of intake: attempts, receipts and usernames into submissions.

Files are grouped by their ``<Assignment>_<username>`` prefix and attempt stamp.
The username is the receipt's ``Name: … (username)`` when the prefix ends in
it; else the file name is split after the assignment name (the receipts'
``Assignment:`` line, or the longest ``_``-prefix all Blackboard files share).
A split that is still ambiguous is never merged with anyone: its prefix is
its own row, with a warning note.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from .blackboard import ATTEMPT, Receipt, parse_stamp, read_receipt
from .ids import decode_name
from .submission import Submission, with_note
from .unzip import Budget, Unzipper

MAX_SHOWN = 300  # characters of a comment or submission text repeated in a note


@dataclass
class _Attempt:
    stamp: str
    receipt: Receipt | None = None
    files: list[Path] = field(default_factory=list)

    def moment(self, zone: tzinfo | None) -> datetime:
        if self.receipt is not None and self.receipt.submitted_at is not None:
            return self.receipt.submitted_at
        return parse_stamp(self.stamp, zone)


def blackboard_parts(entry: Path) -> tuple[str, str, bool] | None:
    """(prefix, stamp, is_receipt) for a Blackboard download file, else None."""
    name = decode_name(entry.name)
    stem = name[:-4] if name.lower().endswith(".txt") else None
    if stem is not None:
        match = ATTEMPT.match(stem)
        if match and match["file"] is None:
            return match["prefix"], match["stamp"], True
    match = ATTEMPT.match(name)
    if match and match["file"]:
        return match["prefix"], match["stamp"], False
    return None


def blackboard_claims(entries: list[Path], root: Path, unzip: Unzipper,
                      zone: tzinfo | None) -> Iterator[tuple[str, bool, Submission]]:
    """(username, mergeable, submission) per student found in Blackboard's files."""
    by_prefix: dict[str, dict[str, _Attempt]] = {}
    for entry in entries:
        parts = blackboard_parts(entry)
        if parts is None:
            continue  # has "_attempt_" but is no Blackboard file: not a submission either
        prefix, stamp, is_receipt = parts
        attempt = by_prefix.setdefault(prefix, {}).setdefault(stamp, _Attempt(stamp))
        if is_receipt and entry.is_file():
            attempt.receipt = read_receipt(entry, zone)
        else:
            attempt.files.append(entry)
    students: dict[str, dict[str, _Attempt]] = {}
    unmerged: list[tuple[str, dict[str, _Attempt], str]] = []
    for prefix, (username, warning) in _usernames(by_prefix).items():
        if warning:
            unmerged.append((username, by_prefix[prefix], warning))
        else:
            students.setdefault(username, {}).update(by_prefix[prefix])
    for username, attempts in students.items():
        yield username, True, _submission(attempts, root, unzip, zone)
    for username, attempts, warning in unmerged:
        yield username, False, with_note(_submission(attempts, root, unzip, zone), warning)


def _usernames(by_prefix: dict[str, dict[str, _Attempt]]) -> dict[str, tuple[str, str]]:
    """prefix -> (username, warning if the split was a guess)."""
    assignments: set[str] = set()
    found: dict[str, tuple[str, str]] = {}
    for prefix, attempts in by_prefix.items():
        for attempt in attempts.values():
            receipt = attempt.receipt
            if receipt is None or not receipt.username:
                continue
            if prefix == receipt.username or prefix.endswith(f"_{receipt.username}"):
                found[prefix] = (receipt.username, "")
                if prefix.endswith(f"_{receipt.username}"):
                    assignments.add(prefix[:-len(receipt.username) - 1])
    candidates = [_splits(p) for p in by_prefix]
    common = set.intersection(*candidates) if candidates else set()
    for prefix in by_prefix:
        if prefix in found:
            continue
        known = [a for a in assignments if prefix.startswith(f"{a}_")]
        if known:
            found[prefix] = (prefix[len(max(known, key=len)) + 1:], "")
            continue
        assignment = max(common, key=len) if common else prefix.rpartition("_")[0]
        username = prefix[len(assignment) + 1:] if assignment else prefix
        guessed = len(common) > 1 or (not common and "_" in assignment)
        warning = (f"no Blackboard receipt names this student; the id {username!r} was read "
                   f"from the file name {prefix!r}_attempt_…, whose split into assignment and "
                   "username is ambiguous (check it; not merged with any other row)"
                   if guessed else "")
        found[prefix] = (username, warning)
    return found


def _splits(prefix: str) -> set[str]:
    return {prefix[:i] for i, c in enumerate(prefix) if c == "_" and i > 0}


def _submission(attempts: dict[str, _Attempt], root: Path, unzip: Unzipper,
                zone: tzinfo | None) -> Submission:
    ordered = sorted(attempts.values(), key=lambda a: (_sortable(a.moment(zone)), a.stamp))
    graded: tuple[_Attempt, Submission] | None = None
    budget = Budget()  # what this student's zips may cost, all attempts together
    zip_problems: list[str] = []
    for attempt in reversed(ordered):
        found = _notebook_of(attempt, root, unzip, budget, zip_problems)
        if found is not None:
            graded = (attempt, found)
            break
    notes: list[str] = []
    if graded is None:
        latest = ordered[-1]
        names = ", ".join(decode_name(p.name) for p in latest.files) or "only a receipt"
        why = "".join(f"; {problem}" for problem in zip_problems[:3])
        submission = Submission("", None, "no Blackboard attempt holds a .ipynb notebook "
                                f"(latest, {latest.stamp}: {names}){why}", root=root)
    else:
        attempt, submission = graded
        moment = attempt.moment(zone)
        submission = replace(submission, submitted_at=moment)
        notes.append(f"Blackboard attempt {attempt.stamp} graded (submitted "
                     f"{moment.isoformat()})")
        later = [a for a in ordered if _sortable(a.moment(zone)) > _sortable(moment)]
        for other in later:
            what = ", ".join(decode_name(p.name) for p in other.files) or "no files"
            notes.append(f"later Blackboard attempt {other.stamp} not graded: it holds no "
                         f"notebook ({what})")
        earlier = [a.stamp for a in ordered if a is not attempt and a not in later]
        if earlier:
            notes.append(f"earlier Blackboard attempts not graded: {', '.join(earlier)}")
    for attempt in ordered:
        receipt = attempt.receipt
        if receipt is not None and receipt.comments:
            notes.append(f"comment with attempt {attempt.stamp}: {_short(receipt.comments)}")
        if receipt is not None and receipt.text:
            notes.append(f"submission text with attempt {attempt.stamp}: {_short(receipt.text)}")
    info = _info(ordered, graded[0] if graded else None, zone)
    return replace(submission, notes=(*submission.notes, *notes), info=info)


def _notebook_of(attempt: _Attempt, root: Path, unzip: Unzipper, budget: Budget,
                 zip_problems: list[str]) -> Submission | None:
    notebooks = sorted(p for p in attempt.files if p.suffix.lower() == ".ipynb")
    if notebooks:
        submission = Submission("", notebooks[0], root=root)
        if len(notebooks) > 1:
            submission = with_note(submission, "attempt has several notebooks; graded "
                                               f"{decode_name(notebooks[0].name)}")
        return submission
    for archive in sorted(p for p in attempt.files if p.suffix.lower() == ".zip"):
        submission = unzip.submission(archive, budget)
        if submission.path is not None:
            return submission
        zip_problems.append(submission.problem)
    return None


def _info(ordered: list[_Attempt], graded: _Attempt | None, zone: tzinfo | None
          ) -> dict[str, Any]:
    receipts = [a.receipt for a in ordered if a.receipt is not None]
    return {
        "name": next((r.name for r in reversed(receipts) if r.name), ""),
        "username": next((r.username for r in reversed(receipts) if r.username), ""),
        "assignment": next((r.assignment for r in reversed(receipts) if r.assignment), ""),
        "attempts": [{
            "stamp": a.stamp, "submitted_at": a.moment(zone).isoformat(),
            "graded": a is graded,
            "comments": a.receipt.comments if a.receipt else "",
            "text": a.receipt.text if a.receipt else "",
            "files": [decode_name(p.name) for p in a.files],
        } for a in ordered],
    }


def _sortable(moment: datetime) -> float:
    return moment.timestamp()  # a naive moment is read in the machine's zone, as before


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "…"
