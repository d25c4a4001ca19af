"""``python -m autograder bundle NAME --out DIR``: a Gradescope autograder zip for one assignment.

Gradescope unzips the bundle into ``/autograder/source``, runs ``setup.sh`` once
to build the image, then ``run_autograder`` for every submission. The zip holds
what grading needs and nothing else (``bundle_members`` decides, a test checks
the list): ``pyproject.toml``, the whole engine package (``autograder/``, its
subpackages and data files), this
assignment's manifest, hidden graders and reference solution, its public data
files, the two scripts and a short README. The manifest carries the
assignment's limits, so ``run_autograder`` grades with them as ``grade`` does. Never the student examples, the master
notebook, nor another assignment's graders or solutions.

``run_autograder`` runs the same engine as ``grade`` (sandbox included; where
bubblewrap cannot start inside Gradescope's container, the engine's fallback
applies and its ``SANDBOX WEAKENED`` note is in the results) on the one
submission and copies its ``results.json`` to ``/autograder/results/``. Its
paths can be moved for a local run: ``AUTOGRADER_ROOT`` (``/autograder``),
``AUTOGRADER_SOURCE`` (``$AUTOGRADER_ROOT/source``), ``AUTOGRADER_PYTHON``
(``$AUTOGRADER_ROOT/venv/bin/python``).
"""

from __future__ import annotations

import os
import shlex
import stat
import tempfile
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .errors import AutograderError
from .grading.catalog import PROJECT_ROOT, Assignment

ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed, so the same sources give the same zip
EXECUTABLE = stat.S_IFREG | 0o755
REGULAR = stat.S_IFREG | 0o644
SCRIPTS = ("setup.sh", "run_autograder")

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, to build the autograder image for {name}.
# Choose Gradescope's Ubuntu 22.04 or newer base image; the engine needs Python >= 3.11.
set -euo pipefail
SOURCE="$(cd "$(dirname "${{BASH_SOURCE[0]}}")" && pwd)"
VENV="${{AUTOGRADER_VENV:-/autograder/venv}}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq bubblewrap python3-venv python3-pip
PYTHON=""
for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && \\
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        PYTHON="$candidate"
        break
    fi
done
if [ -z "$PYTHON" ]; then  # Ubuntu 22.04 ships 3.10; 3.11 is a package away
    apt-get install -y -qq python3.11 python3.11-venv
    PYTHON=python3.11
fi
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
# editable: the graders and the reference stay in $SOURCE, outside the site-packages
# the sandbox shows to student code
"$VENV/bin/python" -m pip install --quiet -e "$SOURCE"
"$VENV/bin/python" -c 'import autograder.cli'
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this for every submission of {name}: grade the newest .ipynb in
# $ROOT/submission with the sandboxed engine, then copy its results.json to
# $ROOT/results/results.json. For a local run, move the paths with AUTOGRADER_ROOT,
# AUTOGRADER_SOURCE and AUTOGRADER_PYTHON.
set -uo pipefail
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
SOURCE="${{AUTOGRADER_SOURCE:-$ROOT/source}}"
PYTHON="${{AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
# the whole submission folder is one student's (<student_id>/<any>.ipynb); no notebook
# in it gives status "missing", score 0, with the reason in results.json
mkdir -p "$WORK/submissions/submission" "$ROOT/results"
cp -R "$ROOT/submission/." "$WORK/submissions/submission/" 2>/dev/null || true
cd "$SOURCE" || exit 2
# stdout (the TA's summary) is hidden from students by results.json's stdout_visibility
"$PYTHON" -m autograder grade {name} "$WORK/submissions" --out "$WORK/out"{grade_options}
status=$?
if [ ! -f "$WORK/out/submission/results.json" ]; then
    echo "run_autograder: grading wrote no results.json (exit $status)" >&2
    exit 1
fi
cp "$WORK/out/submission/results.json" "$ROOT/results/results.json"
exit 0
"""

README = """\
Gradescope autograder for {name}, built by `python -m autograder bundle {name}`.
Upload this zip as the assignment's autograder (base image: Ubuntu 22.04 or newer).
setup.sh installs bubblewrap and the engine; run_autograder grades one submission.
"""


@dataclass(frozen=True, slots=True)
class Member:
    """One file of the bundle: its name in the zip and its bytes."""

    name: str
    data: bytes
    executable: bool = False


# The modules of ``course`` the engine imports on every run (stdlib only): the one rule for
# spreadsheet cells, which ``gradebook.csv`` needs on Gradescope too.
ENGINE_COURSE_MODULES = ("course/__init__.py", "course/spreadsheet.py")


def engine_package(root: Path) -> list[Path]:
    """The ``autograder`` package as a wheel of it holds it: every module of every
    subpackage and the data files ``pyproject.toml`` declares (``package-data``), nothing
    else a checkout may hold (caches, editor files); and ``ENGINE_COURSE_MODULES``."""
    engine = root / "autograder"
    with (root / "pyproject.toml").open("rb") as handle:
        data = tomllib.load(handle)["tool"]["setuptools"]["package-data"]["autograder"]
    found = {*engine.rglob("*.py"), *(path for pattern in data for path in engine.glob(pattern)),
             *(root / name for name in ENGINE_COURSE_MODULES)}
    return sorted(path for path in found if path.is_file() and "__pycache__" not in path.parts)


def bundle_members(assignment: Assignment, *, root: Path = PROJECT_ROOT,
                   show_test_names: bool = True) -> list[Member]:
    """Every file of the bundle, sorted by name."""
    home = assignment.home
    files = [root / "pyproject.toml", *engine_package(root),
             home / "assignment.toml", assignment.grader, assignment.reference,
             *assignment.public_files]
    missing = [str(path) for path in files if not path.is_file()]
    if missing:
        raise AutograderError(f"cannot bundle {assignment.name}: missing {', '.join(missing)}")
    members = [Member(path.relative_to(root).as_posix(), path.read_bytes()) for path in files]
    options = "" if show_test_names else " --hide-test-names"
    members += [
        Member("README.md", README.format(name=assignment.name).encode()),
        Member("setup.sh", (SETUP_SH.format(name=assignment.name)
                            + _install_packages(assignment.packages)).encode(), executable=True),
        Member("run_autograder", RUN_AUTOGRADER.format(name=assignment.name,
                                                       grade_options=options).encode(),
               executable=True),
    ]
    return sorted(members, key=lambda m: m.name)


def _install_packages(packages: tuple[str, ...]) -> str:
    """setup.sh's last line when the assignment declares extra packages (graders' PACKAGES)."""
    if not packages:
        return ""
    quoted = " ".join(shlex.quote(p) for p in packages)
    return f'"$VENV/bin/python" -m pip install --quiet {quoted}\n'


def build_bundle(assignment_name: str, out: Path, *, root: Path = PROJECT_ROOT,
                 show_test_names: bool = True) -> Path:
    """Write ``OUT/NAME-gradescope-autograder.zip`` (atomically) and return its path."""
    assignment = Assignment.find(assignment_name, root)
    members = bundle_members(assignment, root=root, show_test_names=show_test_names)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{assignment.name}-gradescope-autograder.zip"
    fd, tmp = tempfile.mkstemp(dir=out, prefix=f".{path.name}.")
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for member in members:
                info = zipfile.ZipInfo(member.name, date_time=ZIP_DATE)
                info.external_attr = (EXECUTABLE if member.executable else REGULAR) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, member.data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
