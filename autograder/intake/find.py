"""Find the submissions in a folder or zip and say whose each one is.

Accepted layouts (mixed freely):

* ``<student_id>.ipynb``, or ``<student_id>.zip`` holding a notebook (otter's
  ``grader.export()`` zip, a zipped folder);
* ``<student_id>/<any>.ipynb`` (one notebook per folder; checkpoints ignored);
* Blackboard's "Assignment File Download" (``autograder.intake.blackboard``): receipts
  and attached files per attempt; the receipt's ``Name: … (username)`` gives
  the id; the latest attempt *that holds a notebook* (directly or in an
  attached zip) is graded, the others and every comment are listed in notes.

Names that are not valid ids are graded under an id derived from them, with
a note (``autograder.intake.ids``); two names that map to one id both keep a row.
Without receipts a Blackboard file name whose split into assignment and
username is ambiguous is never merged with another student's: each file name
prefix is its own row, with a warning note. Every student found gets exactly
one ``Submission``; one whose files cannot be graded has ``problem`` set.
Zips are extracted with size, count and path checks (no zip-slip).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import tzinfo
from pathlib import Path

from ..errors import SubmissionError
from .attempts import blackboard_claims, blackboard_parts
from .ids import assign_ids, decode_name, id_for, undecoded_name
from .submission import Submission, with_note
from .unzip import IGNORED, Unzipper, extract_zip, unwrapped

NOT_SUBMISSIONS = (".txt", ".csv", ".md", ".xls", ".xlsx", ".tsv", ".sqlite", ".lock")


@dataclass
class _Claim:
    """Submissions that one name claims, before ids are made unique."""

    name: str  # the raw name (file stem, folder, username)
    submissions: list[Submission]


def find_submissions(source: Path, workdir: Path,
                     server_zone: tzinfo | None = None) -> list[Submission]:
    """All submissions under ``source`` (a folder or a .zip), one per student, sorted.

    ``server_zone``: the zone of the times in Blackboard's file names and receipts.
    """
    if not source.exists():
        raise SubmissionError(f"{source}: no such file or folder")
    if source.is_file():
        if source.suffix.lower() != ".zip":
            raise SubmissionError(f"{source}: expected a folder or a .zip of submissions")
        source = extract_zip(source, workdir / "unzipped")
    else:
        source = unwrapped(source)  # a folder holding only the unzipped download's folder
    unzip = Unzipper(workdir / "attached", source)
    claims: dict[str, _Claim] = {}
    others: list[_Claim] = []
    bb_entries: list[Path] = []
    for entry in sorted(source.iterdir()):
        if entry.name in IGNORED or entry.name.startswith("."):
            continue
        name = undecoded_name(entry.name)
        if entry.is_dir():
            _claim(claims, others, name, _from_folder(entry, source))
        elif blackboard_parts(entry) is not None:
            bb_entries.append(entry)
        elif entry.suffix.lower() == ".ipynb":
            _claim(claims, others, name[:-len(entry.suffix)], Submission("", entry, root=source))
        elif entry.suffix.lower() == ".zip":
            _claim(claims, others, name[:-4], unzip.submission(entry))
        elif entry.suffix.lower() not in NOT_SUBMISSIONS:
            stem = name[:-len(entry.suffix)] if entry.suffix else name
            _claim(claims, others, stem, Submission(
                "", None, f"{name} is not a .ipynb notebook (or a .zip holding one)", root=source))
    for username, exact, submission in blackboard_claims(bb_entries, source, unzip, server_zone):
        if exact:
            _claim(claims, others, username, submission)
        else:
            others.append(_Claim(username, [submission]))
    return _with_ids([*claims.values(), *others])


def _claim(claims: dict[str, _Claim], others: list[_Claim], name: str,
           submission: Submission) -> None:
    """Names that are already valid ids gather all of that student's submissions."""
    student_id, note = id_for(name)
    if note:
        others.append(_Claim(name, [submission]))
    else:
        claims.setdefault(student_id, _Claim(name, [])).submissions.append(submission)


def _with_ids(found: list[_Claim]) -> list[Submission]:
    ids = [id_for(claim.name) for claim in found]
    unique = assign_ids((student_id, not note) for student_id, note in ids)
    result = []
    for claim, (_, derived), (student_id, clash) in zip(found, ids, unique, strict=True):
        chosen = _one_per_student(claim.submissions)
        notes = [n for n in (derived, clash) if n]
        result.append(replace(chosen, student_id=student_id, notes=(*notes, *chosen.notes)))
    return sorted(result, key=lambda s: s.student_id)


def _from_folder(folder: Path, root: Path) -> Submission:
    notebooks = sorted(p for p in folder.rglob("*.ipynb")
                       if not IGNORED.intersection(p.relative_to(folder).parts))
    if not notebooks:
        return Submission("", None, f"the folder {decode_name(folder.name)}/ has no .ipynb file",
                          root=root)
    chosen = max(notebooks, key=lambda p: (p.stat().st_mtime, str(p)))
    submission = Submission("", chosen, root=root)
    if len(notebooks) > 1:
        others = ", ".join(decode_name(str(p.relative_to(folder)))
                           for p in notebooks if p != chosen)
        return with_note(submission, f"several notebooks; graded the newest, "
                                     f"{decode_name(str(chosen.relative_to(folder)))} "
                                     f"(not graded: {others})")
    return submission


def _one_per_student(submissions: list[Submission]) -> Submission:
    if len(submissions) == 1:
        return submissions[0]
    usable = [s for s in submissions if s.path is not None and not s.problem] or submissions
    chosen = max(usable, key=lambda s: (s.path.stat().st_mtime if s.path else 0, s.display_path))
    others = ", ".join(s.display_path or "(none)" for s in submissions if s is not chosen)
    return with_note(chosen, f"several submissions for this student; graded "
                             f"{chosen.display_path} (newest), not: {others}")
