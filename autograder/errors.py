"""Every exception the grading engine raises, in one place.

Two families:

* ``AutograderError``: something is wrong with the grading run itself (bad
  arguments, an unknown assignment, a broken grader). The CLI maps these to an
  exit code and a one-line message.
* ``StudentError``: a call into the student's code did not produce a value the
  graders can check. Each carries ``feedback``, a sentence that is safe to show
  the student (it never contains hidden inputs or expected values).
"""

from __future__ import annotations

import re

# Numbers in a student's own exception text may echo hidden inputs
# (``raise ValueError(repr(x))``): decimals and long integers are redacted.
# Short integers stay, so shapes such as (784, 1) still read naturally.
_NUMBER = re.compile(r"(?:\d+\.\d*|\.\d+|\d+(?=[eE][-+]?\d))(?:[eE][-+]?\d+)?|\d{4,}")


def redact_numbers(text: str) -> str:
    """``text`` with every decimal and every integer of 4+ digits replaced by ``#``."""
    return _NUMBER.sub("#", text)


class AutograderError(Exception):
    """A problem with the grading run (not with one student's code)."""


class UnknownAssignment(AutograderError, LookupError):
    """No graders exist for the requested assignment."""


class GraderDefinitionError(AutograderError):
    """A hidden grader file is inconsistent (points do not add up, bad marker)."""


class SubmissionError(AutograderError):
    """A submission cannot be graded at all (not a notebook, unreadable)."""


class StudentError(Exception):
    """A call into student code failed; ``feedback`` is safe to show the student."""

    def __init__(self, feedback: str) -> None:
        super().__init__(feedback)
        self.feedback = feedback


class MissingName(StudentError, NameError):
    """The notebook does not define the requested function or variable."""

    @classmethod
    def for_name(cls, name: str) -> MissingName:
        return cls(f"`{name}` is not defined in the notebook")


class StudentException(StudentError):
    """The student's function raised; ``ename``/``evalue`` come from the worker."""

    def __init__(self, name: str, ename: str, evalue: str) -> None:
        evalue = redact_numbers(evalue if len(evalue) <= 300 else evalue[:300] + "...")
        ename = redact_numbers(ename)  # a class made at run time can carry an input in its name
        super().__init__(f"`{name}` raised {ename}: {evalue}" if evalue else f"`{name}` raised {ename}")
        self.ename = ename
        self.evalue = evalue


class StudentTimeout(StudentError, TimeoutError):
    """The student's code ran past its time limit and was interrupted."""

    @classmethod
    def for_call(cls, name: str, seconds: float) -> StudentTimeout:
        return cls(f"`{name}` did not return within {seconds:g} s (time limit)")


class WorkerDied(StudentError):
    """The process running the student's code exited or was killed."""


class BadReply(StudentError):
    """The worker's reply was too large, too deep, or not in the protocol."""
