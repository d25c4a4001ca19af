"""Each assignment's Gradescope bundle, installed and run in a clean Debian root as Gradescope does.

For every assignment found (``solutions/*/assignment.toml``): the zip (its engine
a wheel built from the project) is unpacked into ``/autograder/source`` of a fresh
Debian bookworm root made by mmdebstrap; ``setup.sh`` runs there as root; then
``/autograder/run_autograder`` grades ``/autograder/submission/`` and writes
``/autograder/results/results.json``, under Gradescope's default 768 MiB memory limit
(HW3's torch too: measured in docs/gradescope.md) and with every new namespace and
mount refused (``gradescope_root.py``: bubblewrap cannot start, as in Gradescope's
containers); each run prints its memory peak (``-s`` shows it). A submission holding
the reference solution must score full marks, one that does nothing 0, one that runs
the bundle's own reference solution if it can read it 0, and no sandbox diagnostic
may reach the student-visible results.

Slow (a few minutes: apt-get and pip in the root), so it runs only when
``AUTOGRADER_CLEAN_ROOT=1`` (``.ci/run`` sets it). Needs root, ``unshare`` and
``mmdebstrap``. The base root is cached as a tarball at ``$AUTOGRADER_ROOT_CACHE``
(default ``~/.cache/cose474-autograder``), with pip's and apt's downloads, so a
second run downloads less.

PyTorch: setup.sh takes torch's CPU build from PyTorch's CPU index. A machine that
cannot reach that index but has the wheel in ``$AUTOGRADER_WHEELS`` (default
``/opt/wheels``, a folder of wheels) gives it to the root instead: the folder is bound
into the root read-only, ``PIP_FIND_LINKS`` names it and ``AUTOGRADER_TORCH_INDEX=``
(empty) tells setup.sh to ask no index for torch, so nothing waits on an unreachable
host. Without such a wheel setup.sh downloads from the CPU index, and if that fails the
test fails saying so. Either way the installed torch must be the CPU build, with no
NVIDIA package.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from autograder.bundle import PYTORCH_CPU_INDEX, PYTORCH_PACKAGES, build_bundle, build_wheel
from autograder.grading.catalog import PROJECT_ROOT, Assignment
from autograder.sandbox.confine import Cgroup

HERE = Path(__file__).resolve().parent
ASSIGNMENTS = sorted(p.parent.name for p in (PROJECT_ROOT / "solutions").glob("*/assignment.toml"))
CACHE = Path(os.environ.get("AUTOGRADER_ROOT_CACHE")
             or Path.home() / ".cache" / "cose474-autograder")
MiB = 1024 * 1024
MEMORY = 768 * MiB  # Gradescope's default
WHEELS = Path(os.environ.get("AUTOGRADER_WHEELS") or "/opt/wheels")
SUITE = "bookworm"

pytestmark = [
    pytest.mark.skipif(not os.environ.get("AUTOGRADER_CLEAN_ROOT"),
                       reason="slow (minutes): set AUTOGRADER_CLEAN_ROOT=1, as .ci/run does"),
    pytest.mark.skipif(os.geteuid() != 0, reason="chroot and mounts need root"),
]


@pytest.fixture(scope="module")
def base_root() -> Path:
    """A minimal bookworm root as a tarball, made once and kept in CACHE."""
    tarball = CACHE / f"{SUITE}-minbase.tar"
    if not tarball.is_file():
        if shutil.which("mmdebstrap") is None:
            pytest.fail("mmdebstrap is not installed (apt-get install mmdebstrap)")
        CACHE.mkdir(parents=True, exist_ok=True)
        partial = tarball.with_suffix(".partial.tar")
        subprocess.run(["mmdebstrap", "--variant=minbase", "--include=ca-certificates",
                        SUITE, str(partial)], check=True, capture_output=True, timeout=1800)
        partial.rename(tarball)
    return tarball


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return build_wheel(PROJECT_ROOT, tmp_path_factory.mktemp("wheel"))


def in_root(root: Path, command: str, timeout: float, memory: int = MEMORY,
            wheels: str = "") -> subprocess.CompletedProcess[str]:
    """Run ``command`` (bash) in ``root`` under a memory limit, no namespaces; ``wheels``:
    a folder bound into the root read-only."""
    cgroup = Cgroup.create(f"autograder-cleanroot-{os.getpid()}", memory, 4096)
    procs = ",".join(str(p / "cgroup.procs") for p in cgroup.paths) if cgroup else ""
    try:
        run = subprocess.run(["unshare", "--mount", "--propagation", "private", sys.executable,
                              str(HERE / "gradescope_root.py"), str(root), str(CACHE), procs,
                              command, wheels], capture_output=True, text=True,
                             timeout=timeout, check=False)
        print(f"{command}: exit {run.returncode}, memory peak {peak(cgroup) // MiB} MiB "
              f"of {memory // MiB} MiB (page cache included)")
        return run
    finally:
        if cgroup is not None:
            cgroup.remove()


def peak(cgroup: Cgroup | None) -> int:
    """The cgroup's highest memory use so far (v2 ``memory.peak``, v1
    ``memory.max_usage_in_bytes``), 0 if unknown."""
    for path in cgroup.paths if cgroup else ():
        for name in ("memory.peak", "memory.max_usage_in_bytes"):
            if (path / name).is_file():
                return int((path / name).read_text())
    return 0


def uses_pytorch(assignment: str) -> bool:
    return any(canonicalize_name(Requirement(p).name) in PYTORCH_PACKAGES
               for p in Assignment.find(assignment).packages)


def setup_command(assignment: str) -> tuple[str, str]:
    """setup.sh's command line, and the wheel folder to bind (see the module's docstring)."""
    if uses_pytorch(assignment) and list(WHEELS.glob("torch-*.whl")):
        command = (f"cd /autograder/source && PIP_FIND_LINKS={WHEELS} "
                   "AUTOGRADER_TORCH_INDEX= bash ./setup.sh")
        return command, str(WHEELS)
    return "cd /autograder/source && bash ./setup.sh", ""


CPU_BUILD = """
import importlib.metadata as m, sys, torch
nvidia = sorted(d.metadata["Name"] for d in m.distributions()
                if d.metadata["Name"].lower().startswith("nvidia"))
print(torch.__version__, torch.version.cuda, nvidia)
sys.exit(torch.version.cuda is not None or bool(nvidia))
"""


THIEF = """
import glob
for path in glob.glob("/autograder/source/solutions/*/reference.py"):
    exec(open(path).read())
"""


def submission(assignment: str, kind: str) -> nbformat.NotebookNode:
    """``reference``: the reference solution, then the student notebook's demonstration
    cells (skipped: the engine installed from the wheel reads them from the bundle);
    ``thief``: runs the bundle's own reference if it can read it; ``idle``: a cell that
    defines nothing asked for."""
    cells = [nbformat.v4.new_code_cell("answer = None")]
    if kind == "reference":
        reference = (PROJECT_ROOT / "solutions" / assignment / "reference.py").read_text()
        cells.append(nbformat.v4.new_code_cell(reference))
        student = nbformat.read(PROJECT_ROOT / "assignments" / assignment / f"{assignment}.ipynb",
                                as_version=4)
        cells += [nbformat.v4.new_code_cell(c.source) for c in student.cells
                  if c.cell_type == "code" and "demo" in c.metadata.get("tags", ())
                  and "_this_notebook" not in c.source]
    elif kind == "thief":
        cells.append(nbformat.v4.new_code_cell(THIEF))
    return nbformat.v4.new_notebook(cells=cells)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_bundle_installs_and_grades_in_a_clean_debian_root(assignment, base_root, wheel,
                                                               tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    subprocess.run(["tar", "-xf", str(base_root), "-C", str(root)], check=True)
    source = root / "autograder" / "source"
    with zipfile.ZipFile(build_bundle(assignment, tmp_path / "zip", wheel=wheel)) as archive:
        archive.extractall(source)
        for info in archive.infolist():  # extractall drops the modes
            os.chmod(source / info.filename, info.external_attr >> 16 & 0o777)
    command, wheels = setup_command(assignment)
    setup = in_root(root, command, timeout=1800, wheels=wheels)
    if setup.returncode != 0 and uses_pytorch(assignment) and not wheels:
        pytest.fail(f"setup.sh could not install PyTorch's CPU build: no torch wheel in "
                    f"{WHEELS} (AUTOGRADER_WHEELS) and the download from {PYTORCH_CPU_INDEX} "
                    f"failed:\n{(setup.stdout + setup.stderr)[-3000:]}")
    assert setup.returncode == 0, (setup.stdout + setup.stderr)[-4000:]
    if uses_pytorch(assignment):
        check = in_root(root, f"/autograder/venv/bin/python -c {shlex.quote(CPU_BUILD)}", 300)
        assert check.returncode == 0, ("not torch's CPU build", check.stdout + check.stderr)
    shutil.copy(source / "run_autograder", root / "autograder" / "run_autograder")
    for kind, expected in (("reference", "max"), ("idle", 0), ("thief", 0)):
        folder = root / "autograder" / "submission"
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(root / "autograder" / "results", ignore_errors=True)
        folder.mkdir()
        (root / "autograder" / "results").mkdir()
        nbformat.write(submission(assignment, kind), folder / f"{assignment}.ipynb")
        run = in_root(root, "cd /autograder && ./run_autograder", timeout=900)
        assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
        results = json.loads((root / "autograder" / "results" / "results.json").read_text())
        want = results["max_score"] if expected == "max" else expected
        assert results["extra_data"]["status"] == "graded", (kind, results["output"])
        assert results["score"] == want, (kind, results["output"])
        if kind == "reference":
            assert "were not run: demonstrations you did not change" in results["output"]
        # bubblewrap could not start: the TA reads so on stdout; the student reads nothing of it
        assert "SANDBOX WEAKENED" in run.stdout + run.stderr or "sandbox weakened" in run.stdout
        assert "bubblewrap" not in json.dumps(results).lower(), results["output"]
