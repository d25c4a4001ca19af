"""Deadlines, extensions and late days.

``--deadline 2026-10-01T23:59+09:00`` (or without the offset plus
``--timezone Asia/Seoul``); ``--extensions FILE`` is a ``student_id,deadline``
CSV (a deadline without an offset is in the deadline's zone). Blackboard's
times are the server's local time: read in ``--timezone`` if given, else in the
deadline's zone. ``--grace MINUTES`` moves every deadline (extensions too) by
that much. ``late_days`` = whole days after the student's deadline plus the
grace, rounded up (one second past it is one day); 0 when on time or within the
grace; None when the submission time is unknown.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import AutograderError

DAY = timedelta(days=1)


@dataclass(frozen=True)
class Deadlines:
    default: datetime
    extensions: dict[str, datetime] = field(default_factory=dict)
    grace: timedelta = timedelta(0)
    zone_name: str = ""  # --timezone, the course's zone for times shown (else the deadline's)

    def for_student(self, student_id: str) -> datetime:
        return self.extensions.get(student_id, self.default)


def zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise AutograderError(f"--timezone {name!r}: not a known time zone (e.g. Asia/Seoul)"
                              ) from None


def parse_moment(text: str, default_zone: tzinfo | None, what: str) -> datetime:
    """An ISO 8601 date-time; without an offset it is in ``default_zone`` (needed then)."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise AutograderError(f"{what}: {text!r} is not an ISO 8601 date-time such as "
                              "2026-10-01T23:59+09:00") from None
    if moment.tzinfo is None:
        if default_zone is None:
            raise AutograderError(f"{what}: {text!r} has no UTC offset; add one "
                                  "(2026-10-01T23:59+09:00) or give --timezone")
        moment = moment.replace(tzinfo=default_zone)
    return moment


def load_deadlines(deadline: str, extensions: Path | None, timezone_name: str | None,
                   grace_minutes: float | None = None) -> tuple[Deadlines, tzinfo]:
    """The deadlines and the server's zone (for Blackboard's local times)."""
    if grace_minutes is not None and not 0 <= grace_minutes <= 7 * 24 * 60:
        raise AutograderError(f"--grace {grace_minutes:g}: minutes from 0 to a week (10080)")
    named = zone(timezone_name) if timezone_name else None
    default = parse_moment(deadline, named, "--deadline")
    server = named or default.tzinfo
    assert server is not None
    found: dict[str, datetime] = {}
    if extensions is not None:
        found = read_extensions(extensions, default.tzinfo)
    grace = timedelta(minutes=grace_minutes or 0)
    return Deadlines(default, found, grace, timezone_name or ""), server


def read_csv_rows(path: Path) -> list[list[str]]:
    """A TA's CSV file (UTF-8, with or without a BOM) as rows; unreadable: an error naming it."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise AutograderError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise AutograderError(f"{path}: not UTF-8 text; save it as \"CSV UTF-8\"") from None
    return list(csv.reader(text.splitlines()))


def read_extensions(path: Path, default_zone: tzinfo | None) -> dict[str, datetime]:
    """``student_id,deadline`` rows; any bad row is an error naming the line."""
    rows = read_csv_rows(path)
    if not rows or [c.strip().lower() for c in rows[0][:2]] != ["student_id", "deadline"]:
        raise AutograderError(f"{path}:1: the header must be student_id,deadline")
    found: dict[str, datetime] = {}
    for line, row in enumerate(rows[1:], 2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < 2 or not row[0].strip():
            raise AutograderError(f"{path}:{line}: expected student_id,deadline")
        student = row[0].strip()
        if student in found:
            raise AutograderError(f"{path}:{line}: a second extension for {student!r}")
        found[student] = parse_moment(row[1], default_zone, f"{path}:{line}")
    return found


def late_days(submitted: datetime | None, deadline: datetime | None,
              grace: timedelta = timedelta(0)) -> int | None:
    if submitted is None or deadline is None:
        return None
    if submitted.tzinfo is None:
        submitted = submitted.replace(tzinfo=deadline.tzinfo)
    late = submitted - deadline - grace
    return 0 if late <= timedelta(0) else math.ceil(late / DAY)


def zone_of(name: str, fallback: datetime | None) -> tzinfo | None:
    """The course's zone: a stored ``--timezone`` name, else the deadline's own offset."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return fallback.tzinfo if fallback is not None else None


def shown(moment: datetime | str | None, course_zone: tzinfo | None) -> str:
    """A time as the course reads it: in its zone, to the second ("" when unknown)."""
    if isinstance(moment, str):
        text = moment
        try:
            moment = datetime.fromisoformat(text) if text else None
        except ValueError:
            return text
    if moment is None:
        return ""
    if course_zone is not None and moment.tzinfo is not None:
        moment = moment.astimezone(course_zone)
    return moment.isoformat(sep=" ", timespec="seconds")
