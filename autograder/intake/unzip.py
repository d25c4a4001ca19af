"""Zips read as data: every member's path checked, only what intake reads extracted, all bounded.

A member's name is hostile: both separators (``/`` and ``\\``) are separators,
and a name that is absolute (``/x``, ``\\x``), has a drive (``C:``), is a UNC
path (``\\\\server\\share``) or climbs (``..``) never chooses where it lands.
Every destination is resolved and must lie inside the target folder; files
are created exclusively (a duplicate member never overwrites an earlier one).

``extract_zip`` (the batch download, or a folder-of-submissions zip): an unsafe
name is *flattened* into one top-level file name (``\\tmp\\x\\y.ipynb`` ->
``tmp_x_y.ipynb``) with a warning, so one student's file name cannot stop the
batch. Only what intake reads is written with its content: notebooks (up to
the notebook size limit), zips (up to ``MAX_ATTACHED_ZIP_BYTES``) and receipts
(their first ``MAX_RECEIPT_BYTES``). Every other member is an empty file (its
name is all intake uses: "holds no notebook (hw1.py)"); an oversized notebook
or zip is a sparse file of its declared size, so intake names the real size.

``Unzipper`` (a student's ``<id>.zip`` or a Blackboard attachment): an unsafe
name refuses the zip (that student's problem), and only the one notebook that
will be graded is extracted. What a student's zips may cost is counted per
submission, across all of its Blackboard attempts (``Budget``).
"""

from __future__ import annotations

import re
import shutil
import struct
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ..errors import SubmissionError
from .blackboard import MAX_RECEIPT_BYTES
from .ids import decode_name, zip_member_name
from .notebook import MAX_NOTEBOOK_BYTES
from .submission import Submission, with_note

IGNORED = {"__MACOSX", ".ipynb_checkpoints", ".DS_Store", "Thumbs.db", "desktop.ini"}
MAX_ZIP_FILES = 20_000  # members of one archive
MAX_ZIP_BYTES = 2 * 1024 ** 3  # written from one batch zip, all members together
MAX_ATTACHED_ZIP_BYTES = 256 * 1024 ** 2  # one student's zip inside the batch
MAX_SUBMISSION_BYTES = 2 * MAX_NOTEBOOK_BYTES  # extracted for one student, all attempts
MAX_SUBMISSION_FILES = 20_000  # members listed for one student, all attempts
MAX_DIRECTORY_BYTES = 32 * 1024 ** 2  # a zip's central directory (names and headers)
_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass
class Budget:
    """What one submission's zips may still cost (all of its attempts together)."""

    bytes: int = MAX_SUBMISSION_BYTES
    files: int = MAX_SUBMISSION_FILES


def member_parts(name: str) -> tuple[tuple[str, ...], bool]:
    """(the relative path parts of a member name, whether the name was unsafe).

    Unsafe: absolute, drive-letter, UNC or ``..`` anywhere (after ``\\`` -> ``/``);
    its parts are then the name's own, without roots, drives, ``.`` and ``..``.
    """
    posix = name.replace("\\", "/")
    unsafe = posix.startswith("/") or bool(_DRIVE.match(posix)) or "\x00" in posix
    parts: list[str] = []
    for part in posix.split("/"):
        if part == "..":
            unsafe = True
        elif part not in ("", "."):
            parts.append(part)
    if parts and _DRIVE.match(parts[0]):
        parts[0] = parts[0][2:]
        parts = [p for p in parts if p]
    return tuple(parts), unsafe


def _inside(target: Path, parts: tuple[str, ...]) -> Path:
    """``target/parts``, resolved; SubmissionError unless it lies inside ``target``."""
    root = target.resolve()
    destination = root.joinpath(*parts).resolve()
    if destination == root or not destination.is_relative_to(root):
        raise SubmissionError(f"unsafe path {'/'.join(parts)!r}")
    return destination


class Unzipper:
    """The notebook inside an attached zip, extracted (alone, safely) under ``workdir``."""

    def __init__(self, workdir: Path, root: Path) -> None:
        self.workdir, self.root, self.count = workdir, root, 0

    def submission(self, archive: Path, budget: Budget | None = None) -> Submission:
        shown = decode_name(archive.name)
        try:
            path, inner, others = self._notebook(archive, shown, budget or Budget())
        except SubmissionError as exc:
            return Submission("", None, str(exc), root=self.root)
        submission = Submission("", path, root=self.root, shown_as=f"{shown}:{inner}")
        submission = with_note(submission, f"graded {inner} from the zip {shown}")
        if others:
            submission = with_note(submission, "the zip holds several notebooks; not graded: "
                                               f"{', '.join(others)}")
        return submission

    def _notebook(self, archive: Path, shown: str, budget: Budget
                  ) -> tuple[Path, str, list[str]]:
        """(the extracted notebook, its name in the zip, the other notebooks' names)."""
        size = archive.stat().st_size
        if size > MAX_ATTACHED_ZIP_BYTES:
            raise SubmissionError(f"{shown} is {size} bytes, over the "
                                  f"{MAX_ATTACHED_ZIP_BYTES}-byte limit for a zip")
        budget.files -= _directory_size(archive, shown)
        if budget.files < 0:
            raise SubmissionError(f"{shown}: too many files in this submission's zips "
                                  f"(over {MAX_SUBMISSION_FILES}, all attempts together)")
        try:
            with zipfile.ZipFile(archive) as zipped:
                members = [m for m in zipped.infolist() if not m.is_dir()]
                found = sorted(_notebooks(members, shown),
                               key=lambda n: (len(n[1]), "/".join(n[1])))
                if not found:
                    raise SubmissionError(f"{shown} holds no .ipynb notebook")
                member, parts = found[0]
                inner = "/".join(parts)
                if member.file_size > MAX_NOTEBOOK_BYTES:
                    raise SubmissionError(f"{shown}: {inner} is {member.file_size} bytes, over "
                                          f"the {MAX_NOTEBOOK_BYTES}-byte limit for a notebook")
                budget.bytes -= member.file_size
                if budget.bytes < 0:
                    raise SubmissionError(f"{shown}: this submission's zips unpack to more than "
                                          f"{MAX_SUBMISSION_BYTES} bytes (all attempts together)")
                self.count += 1
                target = self.workdir / str(self.count)
                target.mkdir(parents=True)
                destination = _inside(target, parts)
                destination.parent.mkdir(parents=True, exist_ok=True)
                with zipped.open(member) as src, destination.open("xb") as dst:
                    _copy_bounded(src, dst, member.file_size)
        except (zipfile.BadZipFile, NotImplementedError, EOFError, ValueError, OSError) as exc:
            raise SubmissionError(f"{shown}: not a readable zip file ({exc})") from None
        return destination, inner, ["/".join(p) for _, p in found[1:]]


def _notebooks(members: list[zipfile.ZipInfo], shown: str
               ) -> list[tuple[zipfile.ZipInfo, tuple[str, ...]]]:
    """The zip's notebooks (not links, not in ``IGNORED`` folders); an unsafe name refuses it."""
    found = []
    for member in members:
        name = zip_member_name(member.filename, member.flag_bits)
        parts, unsafe = member_parts(name)
        if unsafe or not parts:
            raise SubmissionError(f"{shown}: unsafe path {decode_name(name)!r}")
        if parts[-1].lower().endswith(".ipynb") and not IGNORED.intersection(parts) \
                and not _is_link(member):
            found.append((member, parts))
    return found


def _directory_size(archive: Path, shown: str) -> int:
    """The number of members the zip's end record declares, read before ``ZipFile`` parses
    its directory (a million empty members cost it half a GB and many seconds); a
    directory over ``MAX_DIRECTORY_BYTES`` is refused. 0 when there is no end record
    (``ZipFile`` then says the file is not a zip)."""
    end_record = getattr(zipfile, "_EndRecData", None)  # the reader ZipFile itself uses
    if end_record is None:
        return 0
    try:
        with archive.open("rb") as handle:
            end = end_record(handle)
    except (OSError, zipfile.BadZipFile, struct.error):
        return 0
    if not end:
        return 0
    members, directory = int(end[4]), int(end[5])  # zipfile._ECD_ENTRIES_TOTAL, _ECD_SIZE
    if directory > MAX_DIRECTORY_BYTES:
        raise SubmissionError(f"{shown}: its list of files takes {directory} bytes, over "
                              f"{MAX_DIRECTORY_BYTES}")
    return members


def _is_link(member: zipfile.ZipInfo) -> bool:
    return (member.external_attr >> 16) & 0o170000 == 0o120000


def extract_zip(archive: Path, target: Path, *, unwrap: bool = True) -> Path:
    """Extract a batch zip under ``target`` (see the module's docstring); the folder to read.

    Names a Windows zip stored in CP949 are decoded readably (``ids.zip_member_name``);
    a member that cannot be written (a file and a folder of one name) is skipped.
    """
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    shown = decode_name(archive.name)
    if _directory_size(archive, shown) > MAX_ZIP_FILES:
        raise SubmissionError(f"{shown}: more than {MAX_ZIP_FILES} files")
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = [m for m in zipped.infolist() if not m.is_dir() and not _is_link(m)]
            planned = [(m, *_planned(m, shown)) for m in members]
            if sum(keep for _, _, keep in planned) > MAX_ZIP_BYTES:
                raise SubmissionError(f"{shown}: unpacks to more than {MAX_ZIP_BYTES} bytes")
            # deepest first: of a file and a folder with one name, the folder's notebooks win
            planned.sort(key=lambda p: -len(p[1]))
            for member, parts, keep in planned:
                _write_member(zipped, member, target, parts, keep, shown)
    except (zipfile.BadZipFile, NotImplementedError, EOFError) as exc:
        raise SubmissionError(f"{shown}: not a readable zip file ({exc})") from None
    return unwrapped(target) if unwrap else target


def _planned(member: zipfile.ZipInfo, shown: str) -> tuple[tuple[str, ...], int]:
    """(where the member goes, how many of its bytes to write)."""
    name = zip_member_name(member.filename, member.flag_bits)
    parts, unsafe = member_parts(name)
    if unsafe or not parts:
        flat = "_".join(parts) or "unnamed"
        print(f"autograder: {shown}: the member {decode_name(name)!r} has an unsafe path; "
              f"extracted as {decode_name(flat)!r}", file=sys.stderr)
        parts = (flat,)
    suffix = parts[-1].lower().rpartition(".")[2]
    limit = {"ipynb": MAX_NOTEBOOK_BYTES, "zip": MAX_ATTACHED_ZIP_BYTES,
             "txt": MAX_RECEIPT_BYTES}.get(suffix, 0)
    if suffix == "txt":
        return parts, min(member.file_size, limit)
    return parts, member.file_size if member.file_size <= limit else 0


def _write_member(zipped: zipfile.ZipFile, member: zipfile.ZipInfo, target: Path,
                  parts: tuple[str, ...], keep: int, shown: str) -> None:
    """Write ``keep`` bytes of ``member`` (0: an empty file, or a sparse one of its size)."""
    try:
        destination = _inside(target, parts)
        destination.parent.mkdir(parents=True, exist_ok=True)
        with destination.open("xb") as dst:
            if keep:
                with zipped.open(member) as src:
                    _copy_bounded(src, dst, keep)
            elif parts[-1].lower().endswith((".ipynb", ".zip")):
                dst.truncate(min(member.file_size, MAX_ZIP_BYTES))  # intake names its size
    except (OSError, ValueError, SubmissionError) as exc:  # a file and a folder of one name,
        print(f"autograder: {shown}: skipped {decode_name('/'.join(parts))!r} "  # a duplicate
              f"({getattr(exc, 'strerror', None) or exc})", file=sys.stderr)


def _copy_bounded(src: IO[bytes], dst: IO[bytes], keep: int) -> None:
    """Copy ``keep`` bytes at most (a header that lies about the size cannot fill the disk)."""
    left = keep
    while left > 0 and (chunk := src.read(min(1 << 20, left))):
        left -= len(chunk)
        dst.write(chunk)


def unwrapped(target: Path) -> Path:
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
