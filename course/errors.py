"""Every exception the course package raises.

Deeper modules raise these; only :mod:`course.cli` turns them into a message
and an exit code (``exit_code`` on each class).  Nothing below the CLI calls
``sys.exit``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class CourseError(Exception):
    """Base class: something the instructor must fix before grades exist."""

    exit_code: int = 2


class PolicyValueError(CourseError, ValueError):
    """A policy value object was built with a bad value.

    ``key`` is the dotted key relative to the object that rejected it (for
    example ``weight``); :meth:`in_table` prefixes the enclosing TOML table so
    the message reaches the instructor as ``components.midterm.weight``.
    """

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"key '{key}': {message}")
        self.key = key
        self.message = message

    def in_table(self, table: str) -> PolicyValueError:
        return PolicyValueError(f"{table}.{self.key}" if table else self.key, self.message)


class PolicyError(CourseError, ValueError):
    """The policy file is unreadable or invalid; names the file and the key."""

    def __init__(self, file: str, key: str | None, message: str) -> None:
        where = f"{file}: key '{key}'" if key else file
        super().__init__(f"{where}: {message}")
        self.file = file
        self.key = key
        self.message = message

    @classmethod
    def from_value_error(cls, file: str, error: PolicyValueError) -> PolicyError:
        return cls(file, error.key, error.message)


@dataclass(frozen=True, slots=True)
class InputProblem:
    """One bad thing in one input file: ``file:row: column 'c': message``.

    ``row`` is the 1-based line number in the file (the header is line 1);
    it is ``None`` when the problem is the absence of a row, and ``column``
    is ``None`` when the problem concerns the whole row or file.
    """

    file: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.row is None else f"{self.file}:{self.row}"
        column = f" column '{self.column}':" if self.column is not None else ""
        return f"{where}:{column} {self.message}"


class InputErrors(CourseError):
    """All problems found in the inputs, reported together (one line each)."""

    def __init__(self, problems: Iterable[InputProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class OutputError(CourseError, OSError):
    """The output directory could not be written; nothing partial is left."""

    exit_code = 1
