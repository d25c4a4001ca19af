"""Student ids from the names students and LMSs give files: readable, safe, never shared.

An id is data that also names ``OUT/<id>/``, so it is made of letters of any
script, digits and ``_ . @ + -``, at most 100 characters, never ``.``/``..``,
never starting with ``_``/``.`` and never the name of a TA file in ``OUT``.
(``-2+3`` and ``@A1`` are ids: spreadsheet formulas are the CSV writers' concern.)
A name that is not already such an id (``Python Basics With Numpy v3``,
``홍길동 과제 (1)``) gets a readable id derived from it and a note saying so.
Two names that map to one id both keep a row: the later ones get ``-2``,
``-3``... with a note naming the clash (``assign_ids``).

File names from a Windows zip may be CP949 bytes: ``decode_name`` tries
UTF-8, then CP949, and never fails. Control characters (escape sequences
included) are removed from everything here.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable

MAX_ID = 100
# letters/digits of any script, or @ + - (a formula-like id such as -2+3 or @A1 stays an
# id; CSV writers neutralise it), first; never _ or . first
VALID_ID = re.compile(r"(?:[^\W_]|[@+-])[\w.@+-]{0,99}")
# Names inside OUT that belong to the TA side (compared case-insensitively).
RESERVED = frozenset({"_ta_logs", "gradebook.csv", "gradebook.sqlite", "gradebook.sqlite.lock",
                      "gradebook.sqlite-wal", "gradebook.sqlite-shm", "gradebook.sqlite-journal",
                      "run.txt", "report", "report.html", "blackboard_upload.csv",
                      "blackboard_upload.xls", "unnamed"})
ID_NOTE = "graded under the id"  # notes the CLI repeats to the TA
CLASH_NOTE = "also maps to the id"
COPY_SUFFIX = re.compile(r"\s*[(\[]\d{1,3}[)\]]\s*$|\s+-\s*(copy|복사본)(\s*\(\d+\))?\s*$",
                         re.IGNORECASE)
_CONTROL = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)?|[\x00-\x1f\x7f-\x9f]")


def clean_text(text: str) -> str:
    """``text`` without control characters or escape sequences, lone surrogates replaced."""
    text = text.encode("utf-8", "replace").decode("utf-8") if _has_surrogates(text) else text
    text = _CONTROL.sub("", text)
    return "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cs", "Co"))


def decode_name(raw: str | bytes) -> str:
    """A file name to show: ``undecoded_name`` without control characters."""
    return clean_text(undecoded_name(raw))


def undecoded_name(raw: str | bytes) -> str:
    """A file name as text: bytes (or surrogate-escaped str) as UTF-8, else CP949, else with
    replacement characters; control characters kept (``id_for`` notes that it drops them)."""
    if isinstance(raw, str):
        if not _has_surrogates(raw):
            return raw
        raw = os.fsencode(raw)
    for encoding in ("utf-8", "cp949"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", "replace")


def zip_member_name(filename: str, flag_bits: int) -> str:
    """A zip member's name as the author meant it: without flag 0x800 it is not UTF-8-marked,
    and Python decoded it as CP437; recover the bytes and try UTF-8, then CP949."""
    if flag_bits & 0x800:
        return filename
    try:
        raw = filename.encode("cp437")
    except UnicodeEncodeError:
        return filename
    for encoding in ("utf-8", "cp949"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return filename


def is_valid_id(student_id: str) -> bool:
    return bool(VALID_ID.fullmatch(student_id)) and student_id.lower() not in RESERVED \
        and not student_id.endswith(".") and any(c.isalnum() for c in student_id)


def derive_id(name: str) -> str:
    """A readable id for ``name`` (copy suffix dropped, other characters to ``_``)."""
    text = unicodedata.normalize("NFC", clean_text(name)).strip()
    text = COPY_SUFFIX.sub("", text).strip() or text
    text = re.sub(r"[^\w.@+-]+", "_", text)
    text = re.sub(r"_+", "_", text).strip("_.-@+")[:MAX_ID].rstrip("_.-@+")
    if not text:
        return "unnamed"
    if text.lower() in RESERVED:
        return f"{text}_"[:MAX_ID]
    return text


def id_for(name: str) -> tuple[str, str]:
    """(id, note): ``name`` itself when it is a valid id in NFC, else a derived id and why.

    ``홍길동`` typed on Windows (NFC) and saved by macOS (NFD, decomposed jamo) look
    the same and are one folder on a normalising file system: the NFD one is not an
    id as it is, so it is derived (to NFC) and ``assign_ids`` resolves the clash.
    """
    shown = clean_text(name)
    if shown == name and is_valid_id(name) and unicodedata.is_normalized("NFC", name):
        return name, ""
    derived = derive_id(name)
    form = "" if unicodedata.is_normalized("NFC", shown) else " (Unicode normalised to NFC)"
    return derived, f"graded under the id {derived!r}, derived from the name {shown!r}{form}"


def id_key(student_id: str) -> str:
    """What two ids must not share: case, Unicode composition and width folded (NFKC
    casefold), so ``Kim``/``kim``, NFC/NFD and ``ｋｉｍ``/``kim`` are one id."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", student_id).casefold())


def assign_ids(wanted: Iterable[tuple[str, bool]]) -> list[tuple[str, str]]:
    """Unique ids for ``(id, exact)`` pairs, in order: (final id, clash note or "").

    An ``exact`` id (the name was already that id) keeps it over derived ones;
    any other claimant of a taken id gets the first free ``<id>-N``.
    """
    wanted = list(wanted)
    taken: set[str] = {id_key(i) for i, exact in wanted if exact}
    exact_seen: set[str] = set()
    out: list[tuple[str, str]] = []
    for student_id, exact in wanted:
        key = id_key(student_id)
        if exact and key not in exact_seen:
            exact_seen.add(key)
            out.append((student_id, ""))
            continue
        if not exact and key not in taken:
            taken.add(key)
            out.append((student_id, ""))
            continue
        number = 2
        while id_key(f"{student_id[:MAX_ID - 4]}-{number}") in taken:
            number += 1
        new = f"{student_id[:MAX_ID - 4]}-{number}"
        taken.add(id_key(new))
        note = (f"another submission also maps to the id {student_id!r}; "
                f"this one is graded as {new!r}")
        out.append((new, note))
    return out


def _has_surrogates(text: str) -> bool:
    return any("\ud800" <= c <= "\udfff" for c in text)
