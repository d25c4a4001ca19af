"""Where an assignment's pieces live, found by name.

An assignment ``NAME`` is three things in the repository, none of which the
engine hard-codes:

* ``autograder/graders/NAME.py``: the hidden pytest graders (``QUESTIONS`` and
  tests marked ``@pytest.mark.question(qid, points=...)``);
* ``solutions/NAME/reference.py``: the reference solution the graders compare
  against (trusted side only);
* ``assignments/NAME/``: the student-facing folder; its non-notebook files
  (data such as ``digits.npz``) are placed, read-only, next to the student's
  code when it runs.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import ModuleType
from typing import Any

from .errors import GraderDefinitionError, UnknownAssignment

PROJECT_ROOT = Path(__file__).resolve().parent.parent
NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
MAX_PUBLIC_FILE_BYTES = 50 * 1024 * 1024
GRADING_MODULES = ("checks.py", "errors.py", "grading.py", "isolate.py", "notebook.py",
                   "protocol.py", "pytest_plugin.py", "session.py", "worker.py", "kernel_shell.py",
                   "sandbox.py", "channel.py", "confine.py", "launch.py")


@dataclass(frozen=True)
class Assignment:
    name: str
    grader: Path
    reference: Path
    public_dir: Path

    @classmethod
    def find(cls, name: str, root: Path = PROJECT_ROOT) -> Assignment:
        if not NAME.fullmatch(name):
            raise UnknownAssignment(f"{name!r} is not an assignment name (e.g. 'hw1')")
        grader = root / "autograder" / "graders" / f"{name}.py"
        if not grader.is_file():
            known = sorted(p.stem for p in grader.parent.glob("*.py") if NAME.fullmatch(p.stem))
            raise UnknownAssignment(f"no graders for {name!r} ({grader} is missing); "
                                    f"known assignments: {', '.join(known) or 'none'}")
        reference = root / "solutions" / name / "reference.py"
        if not reference.is_file():
            raise UnknownAssignment(f"no reference solution for {name!r}: {reference} is missing")
        return cls(name, grader, reference, root / "assignments" / name)

    @property
    def public_files(self) -> list[Path]:
        """Data files the student's notebook may open (not notebooks, not folders)."""
        if not self.public_dir.is_dir():
            return []
        return sorted(p for p in self.public_dir.iterdir()
                      if p.is_file() and p.suffix != ".ipynb" and not p.name.startswith(".")
                      and p.stat().st_size <= MAX_PUBLIC_FILE_BYTES)

    def _graders(self) -> ModuleType:
        """The graders module, loaded afresh (an Assignment is pickled: it keeps no module)."""
        return load_module(self.grader, f"_graders_{self.name}")

    @cached_property
    def questions(self) -> dict[str, float]:
        """Question id -> points, in gradebook column order (the graders' QUESTIONS)."""
        questions = getattr(self._graders(), "QUESTIONS", None)
        if not isinstance(questions, dict) or not questions:
            raise GraderDefinitionError(f"{self.grader} does not define a QUESTIONS dict")
        for qid, points in questions.items():
            if not isinstance(qid, str) or not NAME.fullmatch(qid):
                raise GraderDefinitionError(f"{self.grader}: bad question id {qid!r}")
            if not isinstance(points, int | float) or points <= 0:
                raise GraderDefinitionError(f"{self.grader}: question {qid!r} has points {points!r}")
        return dict(questions)

    @cached_property
    def packages(self) -> tuple[str, ...]:
        """Extra packages the grading environment installs for this assignment: the graders'
        optional ``PACKAGES`` (pip requirements, e.g. ``("tqdm>=4.60",)``).

        The Gradescope bundle's ``setup.sh`` installs them; ``grade`` warns when one is
        missing here (a student's import of it would get a stand-in and a note).
        """
        packages = getattr(self._graders(), "PACKAGES", ())
        if isinstance(packages, str) or not all(isinstance(p, str) for p in packages):
            raise GraderDefinitionError(f"{self.grader}: PACKAGES must be a list of pip "
                                        "requirement strings")
        for requirement in packages:
            _requirement(requirement, self.grader)
        return tuple(packages)

    def missing_packages(self) -> list[str]:
        """The declared packages that are not installed (at a fitting version) here."""
        from importlib.metadata import PackageNotFoundError, version

        missing = []
        for text in self.packages:
            requirement = _requirement(text, self.grader)
            try:
                installed = version(requirement.name)
            except PackageNotFoundError:
                missing.append(text)
                continue
            if not requirement.specifier.contains(installed, prereleases=True):
                missing.append(text)
        return missing

    @property
    def max_score(self) -> float:
        return float(sum(self.questions.values()))

    @cached_property
    def version(self) -> str:
        """A hash of what decides a grade: graders, reference, public files, grading engine.

        Exports, the CLI and the run history are not in it, so changing them
        never forces a regrade.
        """
        digest = hashlib.sha256()
        engine = Path(__file__).resolve().parent
        parts = [self.grader, self.reference, *self.public_files,
                 *(engine / name for name in GRADING_MODULES)]
        for path in parts:
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        return digest.hexdigest()[:16]


def _requirement(text: str, grader: Path) -> Any:
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        return Requirement(text)
    except InvalidRequirement as exc:
        raise GraderDefinitionError(f"{grader}: PACKAGES entry {text!r} is not a pip "
                                    f"requirement ({exc})") from None


def load_module(path: Path, module_name: str) -> ModuleType:
    """Import a trusted file (a grader or reference) by path, outside sys.modules."""
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise GraderDefinitionError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
