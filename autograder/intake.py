"""Find the submissions in a folder or zip and say whose each one is.

Accepted layouts (mixed freely):

* ``<student_id>.ipynb``
* ``<student_id>/<any>.ipynb`` (one notebook per folder; checkpoints ignored)
* Blackboard's "Assignment File Download":
  ``<Assignment>_<student_id>_attempt_<YYYY-MM-DD-HH-MM-SS>_<file>.ipynb`` beside
  ``<Assignment>_<student_id>_attempt_<YYYY-MM-DD-HH-MM-SS>.txt``; the latest
  attempt is graded and the others are listed in the record's notes.

Every student found gets exactly one ``Submission``; a student whose files
cannot be graded gets one with ``problem`` set, so the gradebook still has the
row. Zips are extracted with size, count and path checks (no zip-slip).
"""

from __future__ import annotations

import re
import shutil
import sys
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .errors import SubmissionError

BLACKBOARD = re.compile(
    r"^(?P<assignment>.+?)_(?P<student>[^_]+)_attempt_"
    r"(?P<stamp>\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2})(?:_(?P<file>.*))?$")
STUDENT_ID = re.compile(r"\w[\w.@+-]{0,99}")  # letters of any script, digits, ._@+-
RECEIPT_NAME = re.compile(r"^Name:.*\(([^()\n]+)\)\s*$", re.MULTILINE)
IGNORED = {"__MACOSX", ".ipynb_checkpoints", ".DS_Store", "Thumbs.db"}
MAX_ZIP_FILES = 20_000
MAX_ZIP_BYTES = 2 * 1024 ** 3


@dataclass(frozen=True, slots=True)
class Submission:
    student_id: str
    path: Path | None
    problem: str = ""
    notes: tuple[str, ...] = ()
    root: Path | None = None

    @property
    def display_path(self) -> str:
        if self.path is None:
            return ""
        if self.root is not None:
            try:
                return str(self.path.relative_to(self.root))
            except ValueError:
                pass
        return str(self.path)


def find_submissions(source: Path, workdir: Path) -> list[Submission]:
    """All submissions under ``source`` (a folder or a .zip), one per student, sorted."""
    if not source.exists():
        raise SubmissionError(f"{source}: no such file or folder")
    if source.is_file():
        if source.suffix.lower() != ".zip":
            raise SubmissionError(f"{source}: expected a folder or a .zip of submissions")
        source = extract_zip(source, workdir / "unzipped")
    found: dict[str, list[Submission]] = defaultdict(list)
    blackboard: dict[str, list[tuple[str, Path]]] = defaultdict(list)
    usernames = _receipt_usernames(source)
    for entry in sorted(source.iterdir()):
        if entry.name in IGNORED or entry.name.startswith("."):
            continue
        if entry.is_dir():
            found_one = _from_folder(entry, source)
            found[found_one.student_id].append(found_one)
            continue
        match = BLACKBOARD.match(entry.stem if entry.suffix else entry.name)
        if match:
            attempt = entry.name[:match.end("stamp")]
            blackboard[usernames.get(attempt, match["student"])].append((match["stamp"], entry))
        elif entry.suffix == ".ipynb":
            found[entry.stem].append(_checked(entry.stem, entry, source))
        elif entry.suffix not in (".txt", ".zip", ".csv", ".md"):
            found[entry.stem].append(_checked(entry.stem, None, source,
                                              f"{entry.name} is not a .ipynb notebook"))
    for student, files in blackboard.items():
        found[student].append(_from_blackboard(student, files, source))
    return [_one_per_student(student, subs) for student, subs in sorted(found.items())]


def _receipt_usernames(source: Path) -> dict[str, str]:
    """``<Assignment>_<id>_attempt_<stamp>`` -> the username of its Blackboard receipt.

    The file name alone is ambiguous when the username or the assignment name
    holds an underscore; the receipt's ``Name: First Last (username)`` line is not.
    A username is only taken if the file name really carries it.
    """
    usernames = {}
    for receipt in source.glob("*_attempt_*.txt"):
        match = BLACKBOARD.match(receipt.stem)
        if not match or not receipt.is_file() or receipt.stat().st_size > 1_000_000:
            continue
        named = RECEIPT_NAME.search(receipt.read_text(errors="replace"))
        if named and f"_{named[1].strip()}_attempt_{match['stamp']}" in receipt.stem:
            usernames[receipt.stem] = named[1].strip()
    return usernames


def _checked(student: str, path: Path | None, root: Path, problem: str = "") -> Submission:
    if not STUDENT_ID.fullmatch(student):
        safe = re.sub(r"[^\w.@+-]", "_", student)[:100] or "unknown"
        return Submission(safe, path, f"cannot tell the student id from the name {student!r}",
                          root=root)
    return Submission(student, path, problem, root=root)


def _from_folder(folder: Path, root: Path) -> Submission:
    notebooks = sorted(p for p in folder.rglob("*.ipynb")
                       if not IGNORED.intersection(p.relative_to(folder).parts))
    if not notebooks:
        return _checked(folder.name, None, root, f"the folder {folder.name}/ has no .ipynb file")
    chosen = max(notebooks, key=lambda p: (p.stat().st_mtime, str(p)))
    submission = _checked(folder.name, chosen, root)
    if len(notebooks) > 1:
        others = ", ".join(str(p.relative_to(folder)) for p in notebooks if p != chosen)
        return _with_note(submission, f"several notebooks; graded the newest, "
                                      f"{chosen.relative_to(folder)} (not graded: {others})")
    return submission


def _from_blackboard(student: str, files: list[tuple[str, Path]], root: Path) -> Submission:
    attempts: dict[str, list[Path]] = defaultdict(list)
    for stamp, path in files:
        attempts[stamp].append(path)
    latest = max(attempts)
    notebooks = sorted(p for p in attempts[latest] if p.suffix == ".ipynb")
    earlier = sorted(s for s in attempts if s != latest)
    if notebooks:
        submission = _checked(student, notebooks[0], root)
        if len(notebooks) > 1:
            submission = _with_note(submission, "attempt has several notebooks; graded "
                                                f"{notebooks[0].name}")
    else:
        names = ", ".join(p.name for p in attempts[latest] if p.suffix != ".txt") or "only a receipt"
        submission = _checked(student, None, root,
                              f"the latest Blackboard attempt ({latest}) has no .ipynb file ({names})")
    note = f"Blackboard attempt {latest} graded"
    if earlier:
        note += f"; earlier attempts not graded: {', '.join(earlier)}"
    return _with_note(submission, note)


def _with_note(submission: Submission, note: str) -> Submission:
    return Submission(submission.student_id, submission.path, submission.problem,
                      (*submission.notes, note), submission.root)


def _one_per_student(student: str, submissions: list[Submission]) -> Submission:
    if len(submissions) == 1:
        return submissions[0]
    usable = [s for s in submissions if s.path is not None and not s.problem] or submissions
    chosen = max(usable, key=lambda s: (s.path.stat().st_mtime if s.path else 0, s.display_path))
    others = ", ".join(s.display_path or "(none)" for s in submissions if s is not chosen)
    return _with_note(chosen, f"several submissions for this student; graded "
                              f"{chosen.display_path} (newest), not: {others}")


def extract_zip(archive: Path, target: Path) -> Path:
    """Extract safely: no absolute or parent paths, no links, bounded count and size."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = [m for m in zipped.infolist() if not m.is_dir()]
            if len(members) > MAX_ZIP_FILES:
                raise SubmissionError(f"{archive}: {len(members)} files, over {MAX_ZIP_FILES}")
            if sum(m.file_size for m in members) > MAX_ZIP_BYTES:
                raise SubmissionError(f"{archive}: unpacks to more than {MAX_ZIP_BYTES} bytes")
            # deepest first: of a file and a folder with one name, the folder's notebooks win
            members.sort(key=lambda m: -m.filename.replace("\\", "/").count("/"))
            for member in members:
                parts = PurePosixPath(member.filename.replace("\\", "/")).parts
                if member.filename.startswith("/") or ".." in parts or not parts:
                    raise SubmissionError(f"{archive}: unsafe path {member.filename!r}")
                if (member.external_attr >> 16) & 0o170000 == 0o120000:
                    continue  # symbolic link: skipped
                destination = target.joinpath(*parts)
                try:
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    with zipped.open(member) as src, destination.open("wb") as dst:
                        shutil.copyfileobj(src, dst)
                except OSError as exc:  # a file and a folder of one name: keep the first
                    print(f"autograder: {archive}: skipped {member.filename!r} "
                          f"({exc.strerror})", file=sys.stderr)
    except zipfile.BadZipFile as exc:
        raise SubmissionError(f"{archive}: not a readable zip file ({exc})") from None
    return _unwrap(target)


def _unwrap(target: Path) -> Path:
    """A zip whose only entry is a folder of submissions: use that folder.

    A single folder holding one notebook and nothing else is one student's
    ``<student_id>/`` folder, so it is not unwrapped.
    """
    entries = [p for p in target.iterdir() if p.name not in IGNORED]
    if len(entries) != 1 or not entries[0].is_dir():
        return target
    inner = [p for p in entries[0].iterdir() if p.name not in IGNORED]
    if len(inner) == 1 and inner[0].is_file() and inner[0].suffix == ".ipynb":
        return target
    return entries[0]
