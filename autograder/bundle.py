"""``python -m autograder bundle NAME --out DIR``: a Gradescope autograder zip for one assignment.

Gradescope unzips the bundle into ``/autograder/source``, runs ``setup.sh`` once
to build the image, then ``run_autograder`` for every submission. The zip holds
what grading needs and nothing else (``bundle_members`` decides, a test checks
the list): the engine as a user gets it, a wheel built from the project with
``pip wheel`` (``build_wheel``: what ``pyproject.toml`` packs, never the
checkout's other files), this assignment's manifest, hidden graders and
reference solution, its public data files and student notebook (its demonstration
cells, ``grading/demos.py``), the two scripts and a short README.
``setup.sh`` installs the wheel into a venv; ``run_autograder`` points the
engine at ``/autograder/source`` for the assignment (``AUTOGRADER_PROJECT``).
The manifest carries the assignment's limits, so ``run_autograder`` grades with
them as ``grade`` does. Never the student examples, the master notebook, nor
another assignment's graders or solutions.

``run_autograder`` runs the same engine as ``grade`` (sandbox included; where
bubblewrap cannot start inside Gradescope's container, the engine's fallback
applies, see docs/gradescope.md) on the one submission and copies its
``results.json`` to ``/autograder/results/``. Sandbox diagnostics go to its
stdout, which results.json hides from students. Its paths can be moved for a
local run: ``AUTOGRADER_ROOT`` (``/autograder``), ``AUTOGRADER_SOURCE``
(``$AUTOGRADER_ROOT/source``), ``AUTOGRADER_PYTHON``
(``$AUTOGRADER_ROOT/venv/bin/python``). PyTorch packages come from PyTorch's CPU
index (``PYTORCH_INSTALL``; ``AUTOGRADER_TORCH_INDEX`` moves it or, empty, leaves it out).
"""

from __future__ import annotations

import os
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from .errors import AutograderError
from .grading.catalog import PROJECT_ROOT, Assignment

ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed, so the same sources give the same zip
EXECUTABLE = stat.S_IFREG | 0o755
REGULAR = stat.S_IFREG | 0o644
SCRIPTS = ("setup.sh", "run_autograder")
# never copied to where the wheel is built: environments, builds, caches, version control
NOT_BUILT = (".git", ".venv", "venv", "build", "dist", "*.egg-info", "__pycache__", "*.pyc",
             ".pytest_cache", ".ruff_cache", ".mypy_cache", "node_modules")

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
# the engine's wheel; the graders and the reference stay in $SOURCE, outside the
# site-packages the sandbox shows to student code
"$VENV/bin/python" -m pip install --quiet "$SOURCE"/{wheel}
(cd / && "$VENV/bin/python" -c 'import autograder.cli')
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
export AUTOGRADER_PROJECT="$SOURCE"  # the assignment's folders; the engine is installed
# the hidden graders and the reference: root's only (where bubblewrap cannot start, as in
# Gradescope's containers, student code runs as another uid on this file system)
chmod -R go-rwx "$SOURCE/solutions" "$ROOT/submission" 2>/dev/null || true
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

# PyPI's torch for Linux x86-64 is the CUDA build (~3 GB with NVIDIA's libraries); PyTorch
# publishes CPU-only builds (torch==2.13.0 resolves there to 2.13.0+cpu, ~190 MB) on an
# index of its own. setup.sh takes these packages from that index alone (--index-url:
# never PyPI's CUDA build, whatever version range the manifest gives) without their
# dependencies, which the next pip line takes from the usual index.
PYTORCH_PACKAGES = frozenset({"torch", "torchvision", "torchaudio"})
PYTORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
PYTORCH_INSTALL = """\
# PyTorch's CPU-only build, from PyTorch's CPU index only (PyPI's Linux torch is the 3 GB
# CUDA build); its dependencies come with the next line. AUTOGRADER_TORCH_INDEX moves the
# index (a mirror); set empty, no index is asked (--no-index) and the wheel must be in
# PIP_FIND_LINKS (a folder or page of wheels, which pip also reads otherwise).
TORCH_INDEX="${{AUTOGRADER_TORCH_INDEX-""" + PYTORCH_CPU_INDEX + """}}"
if [ -n "$TORCH_INDEX" ]; then TORCH_FROM=(--index-url "$TORCH_INDEX"); else TORCH_FROM=(--no-index); fi
"$VENV/bin/python" -m pip install --quiet --no-deps "${{TORCH_FROM[@]}}" {}
"""

README = """\
Gradescope autograder for {name}, built by `python -m autograder bundle {name}`.
Upload this zip as the assignment's autograder (base image: Ubuntu 22.04 or newer).
setup.sh installs bubblewrap and the engine (the .whl); run_autograder grades one
submission. What the sandbox is on Gradescope: the project's docs/gradescope.md.
"""


@dataclass(frozen=True, slots=True)
class Member:
    """One file of the bundle: its name in the zip and its bytes."""

    name: str
    data: bytes
    executable: bool = False


def build_wheel(root: Path, folder: Path) -> Path:
    """``pip wheel`` of the project at ``root`` into ``folder`` (the engine as a user
    installs it); the same sources give the same bytes (``SOURCE_DATE_EPOCH``)."""
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "SOURCE_DATE_EPOCH": "315532800", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    with tempfile.TemporaryDirectory(prefix="autograder-wheel-") as scratch:
        tree = Path(scratch) / "project"  # pip builds in the tree: never in the checkout
        shutil.copytree(root, tree, ignore=shutil.ignore_patterns(*NOT_BUILT))
        run = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                              "--wheel-dir", str(folder), str(tree)], capture_output=True,
                             text=True, env=env, cwd=scratch, check=False)
    wheels = sorted(folder.glob("cose474_autograder-*.whl"))
    if run.returncode != 0 or len(wheels) != 1:
        raise AutograderError(f"cannot build the engine's wheel from {root}: "
                              f"{(run.stderr or run.stdout).strip()[-1500:]}")
    return wheels[0]


def bundle_members(assignment: Assignment, wheel: Path, *, root: Path = PROJECT_ROOT,
                   show_test_names: bool = True) -> list[Member]:
    """Every file of the bundle, sorted by name (``wheel``: the engine, ``build_wheel``)."""
    home = assignment.home
    files = [home / "assignment.toml", assignment.grader, assignment.reference,
             *assignment.public_files,
             *sorted(assignment.public_dir.glob("*.ipynb"))]  # its demonstration cells
    missing = [str(path) for path in files if not path.is_file()]
    if missing:
        raise AutograderError(f"cannot bundle {assignment.name}: missing {', '.join(missing)}")
    members = [Member(path.relative_to(root).as_posix(), path.read_bytes()) for path in files]
    options = "" if show_test_names else " --hide-test-names"
    members += [
        Member(wheel.name, wheel.read_bytes()),
        Member("README.md", README.format(name=assignment.name).encode()),
        Member("setup.sh", (SETUP_SH.format(name=assignment.name, wheel=wheel.name)
                            + _install_packages(assignment.packages)).encode(), executable=True),
        Member("run_autograder", RUN_AUTOGRADER.format(name=assignment.name,
                                                       grade_options=options).encode(),
               executable=True),
    ]
    return sorted(members, key=lambda m: m.name)


def _install_packages(packages: tuple[str, ...]) -> str:
    """setup.sh's last lines when the assignment declares extra packages (the manifest's
    ``packages``): PyTorch's own (``PYTORCH_PACKAGES``) first, from its CPU-only index
    (``PYTORCH_INSTALL``), then every declared package from the usual index; the
    PyTorch ones are then installed already, so only their dependencies come from there."""
    if not packages:
        return ""
    quoted = " ".join(shlex.quote(p) for p in packages)
    pytorch = [p for p in packages if canonicalize_name(Requirement(p).name) in PYTORCH_PACKAGES]
    first = PYTORCH_INSTALL.format(" ".join(shlex.quote(p) for p in pytorch)) if pytorch else ""
    return first + f'"$VENV/bin/python" -m pip install --quiet {quoted}\n'


def build_bundle(assignment_name: str, out: Path, *, root: Path = PROJECT_ROOT,
                 show_test_names: bool = True, wheel: Path | None = None) -> Path:
    """Write ``OUT/NAME-gradescope-autograder.zip`` (atomically) and return its path;
    ``wheel``: the engine's wheel if already built (``build_wheel``), else built here."""
    assignment = Assignment.find(assignment_name, root)
    if wheel is None:
        with tempfile.TemporaryDirectory(prefix="autograder-wheel-") as folder:
            return build_bundle(assignment_name, out, root=root,
                                show_test_names=show_test_names,
                                wheel=build_wheel(root, Path(folder)))
    members = bundle_members(assignment, wheel, root=root, show_test_names=show_test_names)
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
