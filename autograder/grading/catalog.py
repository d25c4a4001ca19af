"""Where an assignment's pieces live, found by name: one folder per assignment.

An assignment ``NAME`` is data, none of which the engine hard-codes:

* ``solutions/NAME/assignment.toml``: the manifest (see ``manifest``): questions
  and points, data files, the names the reference defines, limits, budgets;
* ``solutions/NAME/graders.py``: the hidden pytest graders (tests marked
  ``@pytest.mark.question(qid, points=...)``);
* ``solutions/NAME/reference.py``: the reference solution the graders compare
  against (trusted side only; generated from the master notebook);
* ``assignments/NAME/``: the student-facing folder; the manifest's ``data``
  files in it are placed, read-only, next to the student's code when it runs.

``docs/adding-an-assignment.md`` walks through adding one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import importlib.util
import json
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import ModuleType
from typing import Any

from ..errors import GraderDefinitionError, UnknownAssignment
from ..sandbox import launch
from ..sandbox.launch import Limits
from .manifest import NAME, Manifest, read_manifest
from .versions import engine_files

# the checkout: assignments/ and solutions/ (``launch`` keeps it out of the sandbox); an
# installed engine (the Gradescope bundle's wheel) is told where they are
PROJECT_ROOT = Path(os.environ.get("AUTOGRADER_PROJECT") or launch.PROJECT_ROOT).resolve()
MAX_PUBLIC_FILE_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class Assignment:
    name: str
    home: Path
    public_dir: Path
    manifest: Manifest

    @classmethod
    def find(cls, name: str, root: Path = PROJECT_ROOT) -> Assignment:
        if not NAME.fullmatch(name):
            raise UnknownAssignment(f"{name!r} is not an assignment name (e.g. 'hw1')")
        home = root / "solutions" / name
        path = home / "assignment.toml"
        if not path.is_file():
            known = sorted(p.parent.name for p in (root / "solutions").glob("*/assignment.toml"))
            raise UnknownAssignment(f"no assignment {name!r} ({path} is missing); "
                                    f"known assignments: {', '.join(known) or 'none'}")
        manifest = read_manifest(path)
        for piece in (home / manifest.graders, home / "reference.py"):
            if not piece.is_file():
                raise UnknownAssignment(f"assignment {name!r} is incomplete: {piece} is missing")
        return cls(name, home, root / "assignments" / name, manifest)

    @property
    def grader(self) -> Path:
        return self.home / self.manifest.graders

    @property
    def reference(self) -> Path:
        return self.home / "reference.py"

    @property
    def public_files(self) -> list[Path]:
        """The manifest's data files (each must exist and be at most 50 MiB)."""
        files = []
        for name in self.manifest.data:
            path = self.public_dir / name
            if not path.is_file():
                raise GraderDefinitionError(f"{self.home / 'assignment.toml'}: data file "
                                            f"{name!r} is not in {self.public_dir}")
            if path.stat().st_size > MAX_PUBLIC_FILE_BYTES:
                raise GraderDefinitionError(f"data file {path} is larger than 50 MiB")
            files.append(path)
        return files

    @property
    def skeleton_cells(self) -> tuple[str, ...]:
        """The code cells of the student-facing notebooks in ``assignments/NAME/``: text most
        submissions repeat unchanged, which the sandbox prepares once (``transform_cache``).
        Never the master notebook or anything of ``solutions/``: workers can read this.
        Read once per process: every task of a pool or a Dask worker gets an Assignment of
        its own (unpickled, or found by name), and the property is asked per submission."""
        return _skeleton_cells(self.public_dir)

    @property
    def demo_cells(self) -> frozenset[str]:
        """The code cells the student notebooks tag ``demo`` (``demos.normalized``): skipped
        in a submission that did not change them, when nothing that runs needs them."""
        return _demo_cells(self.public_dir)

    @property
    def questions(self) -> dict[str, float]:
        """Question id -> points, in gradebook column order."""
        return dict(self.manifest.questions)

    @property
    def packages(self) -> tuple[str, ...]:
        """Extra packages the grading environment installs for this assignment (the
        manifest's ``packages``, pip requirements): the Gradescope bundle's ``setup.sh``
        installs them; ``grade`` warns when one is missing here (a student's import of it
        would get a stand-in and a note)."""
        return self.manifest.packages

    def missing_packages(self) -> list[str]:
        """The declared packages that are not installed (at a fitting version) here."""
        from importlib.metadata import PackageNotFoundError, version

        from packaging.requirements import Requirement

        missing = []
        for text in self.packages:
            requirement = Requirement(text)
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

    @property
    def dependencies(self) -> dict[str, tuple[str, ...]]:
        """Graded function -> the graded functions it calls (the manifest's
        ``[dependencies]``): a failed test is tried again with their reference versions."""
        return dict(self.manifest.dependencies)

    @property
    def budgets(self) -> dict[str, float]:
        """Named per-call budgets in seconds (``student.call(..., budget=NAME)``)."""
        return dict(self.manifest.budgets)

    @property
    def preload(self) -> tuple[str, ...]:
        """The libraries the sandbox's zygote imports and warms (the manifest's ``preload``)."""
        return self.manifest.preload

    def limits(self, **overrides: Any) -> Limits:
        """Default limits, then what the preloaded libraries need (``PRELOAD_LIMITS``), then
        the manifest's ``[limits]``, then ``overrides`` (not None)."""
        chosen = {**self.manifest.limit_defaults(),
                  **{k: v for k, v in overrides.items() if v is not None}}
        return dataclasses.replace(Limits(), **chosen)

    @cached_property
    def version(self) -> str:
        """A hash of what decides a grade: this folder's grading files, data, used engine code.

        The engine part is the modules grading imports (found from the imports,
        see ``versions``), with the grader toolkit reduced to the definitions this
        assignment's graders use; exports, the CLI and the run history are not in
        it, so changing them never forces a regrade.
        """
        digest = hashlib.sha256()
        own = [self.home / "assignment.toml", self.grader, self.reference, *self.public_files]
        for path in own:
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        for label, data in engine_files(self.grader):
            digest.update(label.encode() + b"\0" + data + b"\0")
        for text in sorted(self.demo_cells):  # which cells run
            digest.update(b"demo\0" + text.encode() + b"\0")
        return digest.hexdigest()[:16]


@functools.lru_cache(maxsize=8)
def _skeleton_cells(public_dir: Path) -> tuple[str, ...]:
    from ..intake.notebook import InvalidNotebook, read_notebook

    cells: dict[str, None] = {}
    for path in sorted(public_dir.glob("*.ipynb")):
        with contextlib.suppress(InvalidNotebook):
            cells.update(dict.fromkeys(cell.source for cell in read_notebook(path).cells))
    return tuple(cells)


@functools.lru_cache(maxsize=8)
def _demo_cells(public_dir: Path) -> frozenset[str]:
    """Read as JSON, not through nbformat (whose import and validation cost a quarter of a
    second, and every ``grade`` asks for this in its version): the author's own files."""
    from .demos import normalized

    found: set[str] = set()
    for path in sorted(public_dir.glob("*.ipynb")):
        try:
            cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        except (OSError, ValueError, AttributeError) as exc:
            raise GraderDefinitionError(f"{path} cannot be read: {exc}") from None
        for cell in cells:
            source = cell.get("source", "")
            if cell.get("cell_type") == "code" and "demo" in cell.get("metadata", {}).get("tags", ()):
                found.add(normalized("".join(source) if isinstance(source, list) else source))
    return frozenset(found)


def load_module(path: Path, module_name: str) -> ModuleType:
    """Import a trusted file (a grader or reference) by path, outside sys.modules."""
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise GraderDefinitionError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
