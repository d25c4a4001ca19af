"""Deadlines, extensions and late days.

``--deadline 2026-10-01T23:59+09:00`` (or without the offset plus
``--timezone Asia/Seoul``); ``--extensions FILE`` is a ``student_id,deadline``
CSV (a deadline without an offset is in the deadline's zone). Blackboard's
times are the server's local time: read in ``--timezone`` if given, else in the
deadline's zone. ``late_days`` = whole days after the student's deadline,
rounded up (one second late is one day); 0 when on time; None when the
submission time is unknown.
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


def load_deadlines(deadline: str, extensions: Path | None,
                   timezone_name: str | None) -> tuple[Deadlines, tzinfo]:
    """The deadlines and the server's zone (for Blackboard's local times)."""
    named = zone(timezone_name) if timezone_name else None
    default = parse_moment(deadline, named, "--deadline")
    server = named or default.tzinfo
    assert server is not None
    found: dict[str, datetime] = {}
    if extensions is not None:
        found = read_extensions(extensions, default.tzinfo)
    return Deadlines(default, found), server


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


def late_days(submitted: datetime | None, deadline: datetime | None) -> int | None:
    if submitted is None or deadline is None:
        return None
    if submitted.tzinfo is None:
        submitted = submitted.replace(tzinfo=deadline.tzinfo)
    late = submitted - deadline
    return 0 if late <= timedelta(0) else math.ceil(late / DAY)
