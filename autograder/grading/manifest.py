"""An assignment's manifest, ``solutions/NAME/assignment.toml``, read and checked.

Keys (every one but ``questions`` optional)::

    title = "HW2: ..."                  # for people
    graders = "graders.py"              # the hidden graders, in the same folder
    data = ["digits.npz"]               # files of assignments/NAME/ the student code may open
    reference_names = ["f", "g"]        # exactly what the generated reference.py defines
    packages = ["tqdm>=4.60"]           # pip requirements the grading environment installs
    preload = ["torch"]                 # libraries the sandbox's zygote imports and warms
                                        #   before forking workers (default: none, the lean
                                        #   numpy/IPython/matplotlib zygote); see PRELOAD_LIMITS
    [questions]                         # question id = points, in gradebook column order
    q1 = 10
    [limits]                            # this assignment's defaults for `grade` (CLI flags win)
    submission_seconds = 300            # any field of autograder.sandbox.launch.Limits,
    address_space_bytes = 2147483648    #   e.g. the address-space rlimit apart from memory
    [budgets]                           # named per-call budgets, seconds:
    train = 60.0                        #   student.call("train", ..., budget="train")
    [dependencies]                      # graded functions that call other graded ones:
    neural_network = ["sigmoid"]        #   a failed test is tried again with the reference
                                        #   `sigmoid` (docs/grading-policy.md)

A bad manifest raises ``GraderDefinitionError`` naming the file and the key.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import GraderDefinitionError
from ..sandbox.launch import Limits

NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
KEYS = {"title", "graders", "data", "reference_names", "questions", "limits", "budgets",
        "packages", "preload", "dependencies"}
LIMIT_FIELDS = {f.name: str(f.type).removesuffix(" | None") for f in dataclasses.fields(Limits)}
GiB = 1024 ** 3
# The limits a preloaded library needs, as defaults under the manifest's [limits]: torch maps
# ~780 MiB before any student tensor (a 1 GiB address space leaves no room), and its
# zygote's import and warm-up take seconds (more on a loaded machine).
PRELOAD_LIMITS: dict[str, dict[str, float | int]] = {
    "torch": {"address_space_bytes": 2 * GiB, "startup_seconds": 120.0},
}
PRELOADABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,39}")


@dataclass(frozen=True)
class Manifest:
    questions: dict[str, float]
    title: str = ""
    graders: str = "graders.py"
    data: tuple[str, ...] = ()
    reference_names: tuple[str, ...] | None = None
    limits: dict[str, float | int] = field(default_factory=dict)
    budgets: dict[str, float] = field(default_factory=dict)
    packages: tuple[str, ...] = ()
    preload: tuple[str, ...] = ()
    dependencies: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def limit_defaults(self) -> dict[str, float | int]:
        """The preloaded libraries' minimum limits (``PRELOAD_LIMITS``), then ``[limits]``."""
        chosen: dict[str, float | int] = {}
        for name in self.preload:
            for key, value in PRELOAD_LIMITS.get(name, {}).items():
                chosen[key] = max(chosen.get(key, value), value)
        return {**chosen, **self.limits}


def read_manifest(path: Path) -> Manifest:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise GraderDefinitionError(f"{path}: cannot read the manifest: {exc}") from None
    return parse_manifest(raw, str(path))


def parse_manifest(raw: dict[str, Any], where: str) -> Manifest:
    def bad(key: str, why: str) -> GraderDefinitionError:
        return GraderDefinitionError(f"{where}: {key}: {why}")

    unknown = set(raw) - KEYS
    if unknown:
        raise bad(min(unknown), f"unknown key (known: {', '.join(sorted(KEYS))})")
    questions = raw.get("questions")
    if not isinstance(questions, dict) or not questions:
        raise bad("questions", "a [questions] table of question id = points is required")
    for qid, points in questions.items():
        if not NAME.fullmatch(qid):
            raise bad(f"questions.{qid}", "a question id is lower-case letters, digits and _")
        if not _positive(points):
            raise bad(f"questions.{qid}", f"points must be a positive number, not {points!r}")
    graders = raw.get("graders", "graders.py")
    if not isinstance(graders, str) or not FILE_NAME.fullmatch(graders) \
            or not graders.endswith(".py"):
        raise bad("graders", "a .py file name in the assignment's folder")
    data = raw.get("data", [])
    if not isinstance(data, list) or not all(isinstance(d, str) and FILE_NAME.fullmatch(d)
                                             and not d.endswith(".ipynb") for d in data):
        raise bad("data", "a list of plain file names (no folders, no notebooks)")
    names = raw.get("reference_names")
    if names is not None and (not isinstance(names, list)
                              or not all(isinstance(n, str) and n.isidentifier() for n in names)):
        raise bad("reference_names", "a list of Python names")
    limits = raw.get("limits", {})
    if not isinstance(limits, dict):
        raise bad("limits", "a table")
    for key, value in limits.items():
        if key not in LIMIT_FIELDS:
            raise bad(f"limits.{key}", f"not a limit (known: {', '.join(LIMIT_FIELDS)})")
        if not _positive(value) or (LIMIT_FIELDS[key] == "int" and not isinstance(value, int)):
            raise bad(f"limits.{key}", f"must be a positive {LIMIT_FIELDS[key]}, not {value!r}")
    budgets = raw.get("budgets", {})
    if not isinstance(budgets, dict) or not all(NAME.fullmatch(k) and _positive(v)
                                                for k, v in budgets.items()):
        raise bad("budgets", "a table of name = positive seconds")
    title = raw.get("title", "")
    if not isinstance(title, str):
        raise bad("title", "a string")
    packages = raw.get("packages", [])
    if not isinstance(packages, list) or not all(_requirement(p) for p in packages):
        raise bad("packages", "a list of pip requirements (e.g. \"tqdm>=4.60\")")
    preload = raw.get("preload", [])
    if not isinstance(preload, list) or not all(isinstance(p, str) and PRELOADABLE.fullmatch(p)
                                                for p in preload) or len(set(preload)) < len(preload):
        raise bad("preload", "a list of distinct top-level module names (e.g. [\"torch\"])")
    dependencies = _dependencies(raw.get("dependencies", {}), names, bad)
    return Manifest(questions={q: float(p) for q, p in questions.items()}, title=title,
                    graders=graders, data=tuple(data),
                    reference_names=tuple(names) if names is not None else None,
                    limits=dict(limits), budgets={k: float(v) for k, v in budgets.items()},
                    packages=tuple(packages), preload=tuple(preload),
                    dependencies=dependencies)


def _dependencies(table: Any, names: list[str] | None,
                  bad: Any) -> dict[str, tuple[str, ...]]:
    """``[dependencies]``: function = [the graded functions it calls], all reference names."""
    if not isinstance(table, dict):
        raise bad("dependencies", "a table of function = [functions it calls]")
    found: dict[str, tuple[str, ...]] = {}
    for function, called in table.items():
        key = f"dependencies.{function}"
        if not function.isidentifier() or not isinstance(called, list) or not called or not all(
                isinstance(c, str) and c.isidentifier() and c != function for c in called):
            raise bad(key, "a non-empty list of other functions' names")
        unknown = [n for n in (function, *called) if names is not None and n not in names]
        if unknown:
            raise bad(key, f"`{unknown[0]}` is not one of reference_names")
        found[function] = tuple(called)
    return found


def _requirement(value: Any) -> bool:
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        return isinstance(value, str) and bool(Requirement(value).name)
    except InvalidRequirement:
        return False


def _positive(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0
