"""Cells a spreadsheet shows as text, never runs: the one CSV-injection rule of the project.

Every CSV or tab file this project writes for a spreadsheet (``course grades``'
``final_grades.csv`` and Blackboard upload, ``grade``'s ``gradebook.csv`` and
``--blackboard-grade-center`` upload) passes each cell through ``spreadsheet_cell``.
The rule is OWASP's: a cell that starts with ``= + - @``, a tab or a carriage
return, also after leading whitespace, or with the full-width ``＝ ＋ － ＠`` that
East Asian Excel reads as those, gets a leading apostrophe; a plain number
(``-3``, ``+2.5``, ``1e3``) stays a number. Stdlib only: ``autograder.gradebook``
imports this (``course`` imports nothing of ``autograder``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

FORMULA_START = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def spreadsheet_cell(value: Any) -> Any:
    """``value`` unless it is text a spreadsheet would evaluate: then ``'`` + ``value``."""
    if not isinstance(value, str) or not value or NUMBER.fullmatch(value):
        return value
    if value[0] in FORMULA_START or value.lstrip()[:1] in FORMULA_START:
        return "'" + value
    return value


def spreadsheet_row(values: Iterable[Any]) -> list[Any]:
    return [spreadsheet_cell(value) for value in values]
