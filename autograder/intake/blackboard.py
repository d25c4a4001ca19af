"""Blackboard Learn's "Assignment File Download", read as Blackboard writes it.

Each attempt is ``<Assignment>_<username>_attempt_<YYYY-MM-DD-HH-MM-SS>.txt`` (the
receipt) plus ``<Assignment>_<username>_attempt_<stamp>_<original file name>`` per
attached file. A receipt reads::

    Name: Kim Minjun (kim_mj)
    Assignment: Homework 1
    Date Submitted: Thursday, December 12, 2024 1:22:26 PM EST
    Current Grade: Needs Grading

    Submission Field:
    There is no student submission text data for this assignment.

    Comments:
    I worked with 2023101

    Files:
    	Original filename: perceptron.ipynb
    	Filename: Homework 1_kim_mj_attempt_2024-12-12-13-22-26_perceptron.ipynb

or ``No files were attached to this submission.`` under ``Files:``. Dates come
in the server's locale: ``Thursday, December 12, 2024 1:22:26 PM EST`` (US) or
``Tuesday, 21 April 2020 06:34:13 o'clock BST`` (UK). Receipts may carry a BOM,
CRLF line ends, or be CP949 (a Korean Windows re-zip); none of that matters here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path

from .ids import clean_text

ATTEMPT = re.compile(r"^(?P<prefix>.+?)_attempt_(?P<stamp>\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2})"
                     r"(?:_(?P<file>.*))?$", re.DOTALL)
MAX_RECEIPT_BYTES = 1_000_000
SECTIONS = ("Name", "Assignment", "Date Submitted", "Current Grade", "Submission Field",
            "Comments", "Files")
_SECTION = re.compile(r"^({}):[ \t]*(.*)$".format("|".join(map(re.escape, SECTIONS))))
_EMPTY = ("There is no student submission text data for this assignment.",
          "There are no student comments for this assignment.",
          "No files were attached to this submission.")
# Zone abbreviations Blackboard prints after the time; others fall back to the server zone.
ZONES = {"UTC": 0, "GMT": 0, "Z": 0, "WET": 0, "BST": 1, "IST": 1, "CET": 1, "CEST": 2,
         "EET": 2, "EEST": 3, "MSK": 3, "KST": 9, "JST": 9, "HKT": 8, "SGT": 8, "AWST": 8,
         "ACST": 9.5, "AEST": 10, "AEDT": 11, "NZST": 12, "NZDT": 13, "EST": -5, "EDT": -4,
         "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7, "AKST": -9,
         "AKDT": -8, "HST": -10}
_FORMATS = ("%B %d, %Y %I:%M:%S %p", "%B %d, %Y %H:%M:%S", "%d %B %Y %H:%M:%S",
            "%d %B %Y %I:%M:%S %p", "%b %d, %Y %I:%M:%S %p", "%d %b %Y %H:%M:%S",
            "%Y-%m-%d %H:%M:%S", "%Y-%m-%d-%H-%M-%S", "%Y-%m-%dT%H:%M:%S")
# (a date without a time is not used: the file name's stamp is more precise)


@dataclass(frozen=True, slots=True)
class Receipt:
    name: str = ""
    username: str = ""
    assignment: str = ""
    date_text: str = ""
    submitted_at: datetime | None = None  # aware if the receipt named a known zone
    grade: str = ""
    text: str = ""  # the Submission Field
    comments: str = ""
    files: tuple[tuple[str, str], ...] = ()  # (original filename, filename in the download)


def read_receipt(path: Path, server_zone: tzinfo | None = None) -> Receipt:
    """Parse one receipt file; unknown lines are ignored, nothing raises for content."""
    with path.open("rb") as handle:
        raw = handle.read(MAX_RECEIPT_BYTES)
    return parse_receipt(decode_text(raw), server_zone)


def decode_text(raw: bytes) -> str:
    """UTF-8 (BOM or not), UTF-16 with a BOM, else CP949; never fails."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16", "replace")
    for encoding in ("utf-8-sig", "cp949"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", "replace")


def parse_receipt(text: str, server_zone: tzinfo | None = None) -> Receipt:
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    fields: dict[str, list[str]] = {}
    current = None
    for line in text.split("\n"):
        match = _SECTION.match(line.strip())
        if match and (match[1] not in fields or match[1] in ("Submission Field", "Comments")):
            current = match[1]
            fields[current] = [match[2]] if match[2] else []
        elif current is not None:
            fields[current].append(line)

    def block(key: str) -> str:
        value = "\n".join(fields.get(key, [])).strip()
        return "" if value in _EMPTY else clean_text_block(value)

    name_line = block("Name")
    named = re.fullmatch(r"(.*?)\s*\(([^()]+)\)", name_line)
    name, username = (named[1], named[2].strip()) if named else (name_line, "")
    date_text = block("Date Submitted")
    return Receipt(name=name, username=username, assignment=block("Assignment"),
                   date_text=date_text, submitted_at=parse_date(date_text, server_zone),
                   grade=block("Current Grade"), text=block("Submission Field"),
                   comments=block("Comments"), files=_files(fields.get("Files", [])))


def clean_text_block(text: str) -> str:
    return "\n".join(clean_text(line) for line in text.split("\n"))


def _files(lines: list[str]) -> tuple[tuple[str, str], ...]:
    files: list[tuple[str, str]] = []
    original = None
    for line in lines:
        line = line.strip()
        if line.startswith("Original filename:"):
            original = line.partition(":")[2].strip()
        elif line.startswith("Filename:"):
            files.append((original or "", line.partition(":")[2].strip()))
            original = None
    if original:
        files.append((original, ""))
    return tuple(files)


def parse_date(text: str, server_zone: tzinfo | None = None) -> datetime | None:
    """A receipt's date: aware (known zone abbreviation, else ``server_zone``), or None."""
    text = re.sub(r"^[A-Za-z]+day,\s*", "", text.strip())  # the weekday
    text = re.sub(r"\s*o'clock", "", text)
    zone: tzinfo | None = server_zone
    parts = text.rsplit(" ", 1)
    if len(parts) == 2 and re.fullmatch(r"[A-Z]{1,5}", parts[1]) \
            and parts[1] not in ("AM", "PM"):
        text = parts[0]
        if parts[1] in ZONES:
            zone = timezone(timedelta(hours=ZONES[parts[1]]), parts[1])
    for fmt in _FORMATS:
        try:
            moment = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return moment.replace(tzinfo=zone) if zone is not None else moment
    return None


def parse_stamp(stamp: str, server_zone: tzinfo | None) -> datetime:
    """``2026-09-22-23-58-40`` from a file name, in the server's zone."""
    moment = datetime.strptime(stamp, "%Y-%m-%d-%H-%M-%S")
    return moment.replace(tzinfo=server_zone) if server_zone is not None else moment
