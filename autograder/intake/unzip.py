"""Zips extracted safely: no absolute or parent paths, no links, bounded count and size.

``extract_zip`` for a whole download or one student's zip; ``Unzipper`` for the
notebooks inside zips attached to submissions (each extracted to its own
folder under the run's work folder).
"""

from __future__ import annotations

import shutil
import sys
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from ..errors import SubmissionError
from .ids import decode_name, zip_member_name
from .submission import Submission, with_note

IGNORED = {"__MACOSX", ".ipynb_checkpoints", ".DS_Store", "Thumbs.db", "desktop.ini"}
MAX_ZIP_FILES = 20_000
MAX_ZIP_BYTES = 2 * 1024 ** 3


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
    return unwrapped(target) if unwrap else target


def _copy_bounded(src: Any, dst: Any, declared: int) -> None:
    """Copy at most the member's declared size (a lying header cannot fill the disk)."""
    left = declared
    while chunk := src.read(min(1 << 20, left + 1)):
        left -= len(chunk)
        if left < 0:
            raise ValueError("member larger than its declared size")
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
