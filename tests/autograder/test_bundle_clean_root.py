"""Each assignment's Gradescope bundle, installed and run in a clean Debian root as Gradescope does.

For every assignment found (``solutions/*/assignment.toml``): the zip (its engine
a wheel built from the project) is unpacked into ``/autograder/source`` of a fresh
Debian bookworm root made by mmdebstrap; ``setup.sh`` runs there as root; then
``/autograder/run_autograder`` grades ``/autograder/submission/`` and writes
``/autograder/results/results.json``, under a 768 MiB memory limit and with every
new namespace and mount refused (``gradescope_root.py``: bubblewrap cannot start,
as in Gradescope's containers). A submission holding the reference solution must
score full marks, one that does nothing 0, one that runs the bundle's own reference
solution if it can read it 0, and no sandbox diagnostic may reach the
student-visible results.

Slow (a few minutes: apt-get and pip in the root), so it runs only when
``AUTOGRADER_CLEAN_ROOT=1`` (``.ci/run`` sets it). Needs root, ``unshare`` and
``mmdebstrap``. The base root is cached as a tarball at ``$AUTOGRADER_ROOT_CACHE``
(default ``~/.cache/cose474-autograder``), with pip's and apt's downloads, so a
second run downloads less.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder.bundle import build_bundle, build_wheel
from autograder.grading.catalog import PROJECT_ROOT
from autograder.sandbox.confine import Cgroup

HERE = Path(__file__).resolve().parent
ASSIGNMENTS = sorted(p.parent.name for p in (PROJECT_ROOT / "solutions").glob("*/assignment.toml"))
CACHE = Path(os.environ.get("AUTOGRADER_ROOT_CACHE")
             or Path.home() / ".cache" / "cose474-autograder")
MEMORY = 768 * 1024 * 1024  # Gradescope's default
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


def in_root(root: Path, command: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """Run ``command`` (bash) in ``root`` under Gradescope's memory limit, no namespaces."""
    cgroup = Cgroup.create(f"autograder-cleanroot-{os.getpid()}", MEMORY, 4096)
    procs = ",".join(str(p / "cgroup.procs") for p in cgroup.paths) if cgroup else ""
    try:
        return subprocess.run(["unshare", "--mount", "--propagation", "private", sys.executable,
                               str(HERE / "gradescope_root.py"), str(root), str(CACHE), procs,
                               command], capture_output=True, text=True, timeout=timeout,
                              check=False)
    finally:
        if cgroup is not None:
            cgroup.remove()


THIEF = """
import glob
for path in glob.glob("/autograder/source/solutions/*/reference.py"):
    exec(open(path).read())
"""


def submission(assignment: str, kind: str) -> nbformat.NotebookNode:
    """``reference``: the reference solution; ``thief``: runs the bundle's own reference
    if it can read it; ``idle``: a cell that defines nothing asked for."""
    cells = [nbformat.v4.new_code_cell("answer = None")]
    if kind == "reference":
        reference = (PROJECT_ROOT / "solutions" / assignment / "reference.py").read_text()
        cells.append(nbformat.v4.new_code_cell(reference))
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
    setup = in_root(root, "cd /autograder/source && bash ./setup.sh", timeout=1800)
    assert setup.returncode == 0, (setup.stdout + setup.stderr)[-4000:]
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
        # bubblewrap could not start: the TA reads so on stdout; the student reads nothing of it
        assert "SANDBOX WEAKENED" in run.stdout + run.stderr or "sandbox weakened" in run.stdout
        assert "bubblewrap" not in json.dumps(results).lower(), results["output"]
