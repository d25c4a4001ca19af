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
# A version right after the name of a library or the word "version" stays ("NumPy 2.0",
# "Python 3.11.7", "version 1.26"): at most three parts of at most two digits each (the
# first may have four: "2024.1"), so it can carry at most about two decimal digits of
# any float, far from a hidden input, and never an exact value.
_VERSION = re.compile(
    r"(?i)\b(?:numpy|python|scipy|pandas|matplotlib|ipython|jupyter|torch|pytorch|tensorflow|"
    r"sklearn|scikit-learn|nbformat|otter|version|ver\.?|v)\s?(?:==|>=|<=|=)?\s?"
    r"(\d{1,4}(?:\.\d{1,2}){1,2})(?![\d.])")
# Numbers spelled with letters: a run of two or more number words, or of a number word
# and digits, or any run holding "point"/"dot" ("three point one four", "minus two",
# "3 point 14", "twenty-three") becomes ``#``. A single word ("one of the inputs", "and
# two pears") stays, as a short integer does.
_WORDS = ("zero|oh|nought|nil|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
          "thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|"
          "fourty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million|billion|trillion|"
          "point|dot|minus|negative|plus|half|halves|quarter|quarters|tenths?|hundredths?|"
          "thousandths?|and|e")
_TOKEN = rf"(?:\b(?:{_WORDS})\b|\d+)"
_SPELLED = re.compile(rf"(?i){_TOKEN}(?:[\s,;:_\-/.+]+{_TOKEN})+")
_NUMBER_WORD = re.compile(rf"(?i)\b(?:{_WORDS})\b")
_FILLER = re.compile(r"(?i)^(?:and|e|oh)$")


def redact_numbers(text: str) -> str:
    """``text`` with decimals, integers of 4+ digits and spelled-out numbers replaced by ``#``
    (a short version after a library's name stays; see ``_VERSION``)."""
    kept: list[str] = []

    def keep_version(match: re.Match[str]) -> str:
        kept.append(match[0])
        return f"\x00{len(kept) - 1}\x00"

    text = _VERSION.sub(keep_version, text.replace("\x00", ""))
    text = _SPELLED.sub(_spelled, _NUMBER.sub("#", text))
    return re.sub("\x00(\\d+)\x00", lambda m: kept[int(m[1])], text)


def _spelled(match: re.Match[str]) -> str:
    words = [w for w in _NUMBER_WORD.findall(match[0]) if not _FILLER.match(w)]
    digits = re.search(r"\d", match[0])
    if len(words) >= 2 or (words and digits) or re.search(r"(?i)\b(?:point|dot)\b", match[0]):
        return "#"
    return match[0]  # digits only ("784, 1") or one word ("and two pears"): as short integers


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
        error = cls(f"`{name}` is not defined in the notebook")
        error.name = name  # NameError's own attribute: which name (``grading.prose``)
        return error


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
