"""Find the submissions in a folder or zip and say whose each one is.

Accepted layouts (mixed freely):

* ``<student_id>.ipynb``, or ``<student_id>.zip`` holding a notebook (otter's
  ``grader.export()`` zip, a zipped folder);
* ``<student_id>/<any>.ipynb`` (one notebook per folder; checkpoints ignored);
* Blackboard's "Assignment File Download" (``autograder.blackboard``): receipts
  and attached files per attempt; the receipt's ``Name: … (username)`` gives
  the id; the latest attempt *that holds a notebook* (directly or in an
  attached zip) is graded, the others and every comment are listed in notes.

Names that are not valid ids are graded under an id derived from them, with
a note (``autograder.ids``); two names that map to one id both keep a row.
Without receipts a Blackboard file name whose split into assignment and
username is ambiguous is never merged with another student's: each file name
prefix is its own row, with a warning note. Every student found gets exactly
one ``Submission``; one whose files cannot be graded has ``problem`` set.
Zips are extracted with size, count and path checks (no zip-slip).
"""

from __future__ import annotations

import shutil
import sys
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo
from pathlib import Path, PurePosixPath
from typing import Any

from .errors import SubmissionError
from .ids import assign_ids, decode_name, id_for, undecoded_name, zip_member_name

IGNORED = {"__MACOSX", ".ipynb_checkpoints", ".DS_Store", "Thumbs.db", "desktop.ini"}
NOT_SUBMISSIONS = (".txt", ".csv", ".md", ".xls", ".xlsx", ".tsv", ".sqlite", ".lock")
MAX_ZIP_FILES = 20_000
MAX_ZIP_BYTES = 2 * 1024 ** 3


@dataclass(frozen=True, slots=True)
class Submission:
    student_id: str
    path: Path | None
    problem: str = ""
    notes: tuple[str, ...] = ()
    root: Path | None = None
    submitted_at: datetime | None = None  # when the graded attempt was handed in, if known
    shown_as: str = ""  # how to name the file when ``path`` is not under ``root`` (a zip)
    info: dict[str, Any] = field(default_factory=dict)  # receipt facts: name, comments, ...

    @property
    def display_path(self) -> str:
        if self.shown_as:
            return self.shown_as
        if self.path is None:
            return ""
        if self.root is not None:
            try:
                return decode_name(str(self.path.relative_to(self.root)))
            except ValueError:
                pass
        return decode_name(str(self.path))


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
    from .bbintake import blackboard_claims, blackboard_parts  # the Blackboard half

    if not source.exists():
        raise SubmissionError(f"{source}: no such file or folder")
    if source.is_file():
        if source.suffix.lower() != ".zip":
            raise SubmissionError(f"{source}: expected a folder or a .zip of submissions")
        source = extract_zip(source, workdir / "unzipped")
    else:
        source = _unwrap(source)  # a folder holding only the unzipped download's folder
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


class Unzipper:
    """Notebooks inside attached zips, extracted (safely) under ``workdir``."""

    def __init__(self, workdir: Path, root: Path) -> None:
        self.workdir, self.root, self.count = workdir, root, 0

    def notebooks(self, archive: Path) -> tuple[list[Path], Path | None, str]:
        """(notebooks best first, the folder they are in, problem)."""
        self.count += 1
        target = self.workdir / str(self.count)
        try:
            extract_zip(archive, target, unwrap=False)
        except SubmissionError as exc:
            return [], None, str(exc)
        found = sorted((p for p in target.rglob("*.ipynb")
                        if not IGNORED.intersection(p.relative_to(target).parts)),
                       key=lambda p: (len(p.relative_to(target).parts), str(p)))
        return found, target, ""

    def submission(self, archive: Path) -> Submission:
        shown = decode_name(archive.name)
        found, target, problem = self.notebooks(archive)
        if not found or target is None:
            return Submission("", None, problem or f"{shown} holds no .ipynb notebook",
                              root=self.root)
        inner = str(found[0].relative_to(target))
        submission = Submission("", found[0], root=self.root, shown_as=f"{shown}:{inner}")
        submission = with_note(submission, f"graded {inner} from the zip {shown}")
        if len(found) > 1:
            others = ", ".join(str(p.relative_to(target)) for p in found[1:])
            submission = with_note(submission, f"the zip holds several notebooks; not graded: "
                                               f"{others}")
        return submission


def with_note(submission: Submission, note: str) -> Submission:
    return replace(submission, notes=(*submission.notes, note))


def _one_per_student(submissions: list[Submission]) -> Submission:
    if len(submissions) == 1:
        return submissions[0]
    usable = [s for s in submissions if s.path is not None and not s.problem] or submissions
    chosen = max(usable, key=lambda s: (s.path.stat().st_mtime if s.path else 0, s.display_path))
    others = ", ".join(s.display_path or "(none)" for s in submissions if s is not chosen)
    return with_note(chosen, f"several submissions for this student; graded "
                             f"{chosen.display_path} (newest), not: {others}")


def extract_zip(archive: Path, target: Path, *, unwrap: bool = True) -> Path:
    """Extract safely: no absolute or parent paths, no links, bounded count and size.

    Names a Windows zip stored in CP949 are decoded readably (``ids.zip_member_name``);
    a member that cannot be written (a file and a folder of one name) is skipped.
    """
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = [m for m in zipped.infolist() if not m.is_dir()]
            if len(members) > MAX_ZIP_FILES:
                raise SubmissionError(f"{archive.name}: {len(members)} files, over "
                                      f"{MAX_ZIP_FILES}")
            if sum(m.file_size for m in members) > MAX_ZIP_BYTES:
                raise SubmissionError(f"{archive.name}: unpacks to more than {MAX_ZIP_BYTES} "
                                      "bytes")
            # deepest first: of a file and a folder with one name, the folder's notebooks win
            members.sort(key=lambda m: -m.filename.replace("\\", "/").count("/"))
            for member in members:
                name = zip_member_name(member.filename, member.flag_bits)
                parts = PurePosixPath(name.replace("\\", "/")).parts
                if name.startswith("/") or ".." in parts or not parts:
                    raise SubmissionError(f"{archive.name}: unsafe path {name!r}")
                if (member.external_attr >> 16) & 0o170000 == 0o120000:
                    continue  # symbolic link: skipped
                destination = target.joinpath(*parts)
                try:
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    with zipped.open(member) as src, destination.open("wb") as dst:
                        _copy_bounded(src, dst, member.file_size)
                except (OSError, ValueError) as exc:  # a file and a folder of one name: keep
                    print(f"autograder: {decode_name(archive.name)}: skipped "  # the first
                          f"{decode_name(name)!r} "
                          f"({getattr(exc, 'strerror', None) or exc})", file=sys.stderr)
    except (zipfile.BadZipFile, NotImplementedError, EOFError) as exc:
        raise SubmissionError(f"{archive.name}: not a readable zip file ({exc})") from None
    return _unwrap(target) if unwrap else target


def _copy_bounded(src: Any, dst: Any, declared: int) -> None:
    """Copy at most the member's declared size (a lying header cannot fill the disk)."""
    left = declared
    while chunk := src.read(min(1 << 20, left + 1)):
        left -= len(chunk)
        if left < 0:
            raise ValueError("member larger than its declared size")
        dst.write(chunk)


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


def group_by(items: list[tuple[str, Any]]) -> dict[str, list[Any]]:
    grouped: dict[str, list[Any]] = defaultdict(list)
    for key, value in items:
        grouped[key].append(value)
    return grouped
