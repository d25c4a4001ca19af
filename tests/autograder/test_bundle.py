"""``python -m autograder bundle hw1``: a Gradescope autograder zip with what grading needs only.

The zip's ``run_autograder`` really runs here, with the ``/autograder`` paths moved into a
temporary folder and the current venv standing in for the one ``setup.sh`` would build; it
grades in its own processes, never in this one. ``test_bundle_clean_root.py`` runs the whole
bundle, setup.sh included, in a clean Debian root as Gradescope does.
"""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from autograder.bundle import build_bundle, build_wheel
from autograder.errors import UnknownAssignment
from autograder.grading.catalog import PROJECT_ROOT

EXAMPLE = PROJECT_ROOT / "solutions" / "hw1" / "examples" / "2023001.ipynb"
WHEEL = "cose474_autograder-0.1.0-py3-none-any.whl"
EXPECTED = sorted([
    "README.md", "setup.sh", "run_autograder", WHEEL,
    "solutions/hw1/assignment.toml", "solutions/hw1/graders.py",
    "solutions/hw1/reference.py", "assignments/hw1/digits.npz",
    "assignments/hw1/hw1.ipynb",  # the student notebook: which cells are demonstrations
])
# every module, and the data files the engine opens (named here, not derived from pyproject)
ENGINE = sorted([*(p.relative_to(PROJECT_ROOT).as_posix()
                   for p in (PROJECT_ROOT / "autograder").rglob("*.py")
                   if "__pycache__" not in p.parts),
                 "autograder/grading/grading.ini",
                 *(f"autograder/report/templates/{name}"
                   for name in ("base.html", "index.html", "pair.html", "sort.js"))])


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return build_wheel(PROJECT_ROOT, tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="module")
def bundle(tmp_path_factory, wheel) -> Path:
    return build_bundle("hw1", tmp_path_factory.mktemp("bundle"), wheel=wheel)


def test_the_zip_holds_exactly_what_grading_needs(bundle):
    """The engine's wheel, hw1's graders, reference, data and student notebook, the scripts:
    no examples, master, nor the checkout's engine files."""
    assert bundle.name == "hw1-gradescope-autograder.zip"
    with zipfile.ZipFile(bundle) as archive:
        names = archive.namelist()
        packed = io.BytesIO(archive.read(WHEEL))
    assert names == EXPECTED
    assert not [n for n in names if "examples" in n or "master" in n or "solutions/" in n
                and n.endswith(".ipynb")]
    with zipfile.ZipFile(packed) as engine:  # every room of the engine travels in the wheel
        inside = [n for n in engine.namelist() if n.startswith("autograder/")]
    assert sorted(inside) == ENGINE


def test_the_scripts_are_executable_and_say_what_they_install(bundle):
    with zipfile.ZipFile(bundle) as archive:
        modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
        setup = archive.read("setup.sh").decode()
        run = archive.read("run_autograder").decode()
    assert modes["run_autograder"] & stat.S_IXUSR and modes["setup.sh"] & stat.S_IXUSR
    assert not modes["solutions/hw1/graders.py"] & stat.S_IXUSR
    assert "apt-get install -y -qq bubblewrap python3-venv" in setup
    assert f'pip install --quiet "$SOURCE"/{WHEEL}' in setup
    assert 'export AUTOGRADER_PROJECT="$SOURCE"' in run
    assert "grade hw1 " in run and "--hide-test-names" not in run
    for script in (setup, run):
        subprocess.run(["bash", "-n"], input=script, text=True, check=True)


def test_building_twice_gives_the_same_bytes(bundle, tmp_path):
    """The wheel rebuilt from the same sources included."""
    assert build_bundle("hw1", tmp_path).read_bytes() == bundle.read_bytes()


def test_hidden_test_names_are_baked_into_run_autograder(tmp_path, wheel):
    with zipfile.ZipFile(build_bundle("hw1", tmp_path, show_test_names=False,
                                      wheel=wheel)) as archive:
        assert "--hide-test-names" in archive.read("run_autograder").decode()


def test_an_unknown_assignment_is_refused(tmp_path, wheel):
    with pytest.raises(UnknownAssignment):
        build_bundle("hw9", tmp_path, wheel=wheel)


def test_run_autograder_grades_the_correct_example_to_100(bundle, tmp_path):
    """Unzipped as Gradescope would, run on 2023001.ipynb: a valid results.json scoring 100."""
    source, root = tmp_path / "source", tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(source)
        for info in archive.infolist():  # extractall drops the modes
            os.chmod(source / info.filename, info.external_attr >> 16 & 0o777)
    (root / "submission").mkdir(parents=True)
    (root / "submission" / "hw1.ipynb").write_bytes(EXAMPLE.read_bytes())
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_SOURCE": str(source),
           "AUTOGRADER_PYTHON": sys.executable}
    run = subprocess.run([str(source / "run_autograder")], env=env, capture_output=True,
                         text=True, timeout=180, cwd=tmp_path, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == results["max_score"] == 100
    assert results["extra_data"]["status"] == "graded"
    assert len(results["tests"]) > 7 and {t["status"] for t in results["tests"]} == {"passed"}
    for test in results["tests"]:
        assert {"name", "score", "max_score", "status", "output", "tags", "visibility"} <= set(test)
    assert results["extra_data"]["source"] == "submission/hw1.ipynb"
    # the demonstration cells, read from the bundle's copy of the student notebook
    assert "were not run: demonstrations you did not change" in results["output"]
    assert "SANDBOX" not in json.dumps(results)  # diagnostics are the TA's (stdout)


def test_setup_sh_installs_the_assignments_declared_packages():
    from autograder.bundle import _install_packages

    assert _install_packages(()) == ""
    assert _install_packages(("tqdm>=4.60", "h5py")) == (
        '"$VENV/bin/python" -m pip install --quiet \'tqdm>=4.60\' h5py\n')


def run_install_lines(packages: tuple[str, ...], tmp_path: Path, **env: str) -> list[list[str]]:
    """setup.sh's package lines for ``packages`` run by bash, with a stand-in venv python
    that records its arguments: each pip call's arguments, in order."""
    from autograder.bundle import _install_packages

    venv, log = tmp_path / "venv", tmp_path / "calls"
    (venv / "bin").mkdir(parents=True, exist_ok=True)
    log.unlink(missing_ok=True)
    (venv / "bin" / "python").write_text(
        f'#!/bin/sh\nfor a in "$@"; do printf "%s\\037" "$a"; done >> {log}\necho >> {log}\n')
    (venv / "bin" / "python").chmod(0o755)
    script = "set -euo pipefail\n" + _install_packages(packages)
    clean = {k: v for k, v in os.environ.items() if k != "AUTOGRADER_TORCH_INDEX"}
    subprocess.run(["bash", "-c", script], env={**clean, "VENV": str(venv), **env}, check=True)
    return [line.split("\x1f")[:-1] for line in log.read_text().splitlines()]


def test_setup_sh_takes_pytorch_from_its_cpu_index_and_the_rest_from_the_usual_one(tmp_path):
    """PyPI's torch for Linux is the 3 GB CUDA build: torch alone comes from PyTorch's CPU
    index (nothing else asked there, no dependencies), then every package as usual."""
    from autograder.bundle import PYTORCH_CPU_INDEX

    first, second = run_install_lines(("torch==2.13.0", "tqdm>=4.60"), tmp_path)
    assert first == ["-m", "pip", "install", "--quiet", "--no-deps", "--index-url",
                     PYTORCH_CPU_INDEX, "torch==2.13.0"]
    assert second == ["-m", "pip", "install", "--quiet", "torch==2.13.0", "tqdm>=4.60"]
    assert PYTORCH_CPU_INDEX == "https://download.pytorch.org/whl/cpu"
    # torchvision and torchaudio too, whatever the spelling; no PyTorch package, no such line
    calls = run_install_lines(("TorchVision>=0.1", "torchaudio", "numpy"), tmp_path)
    assert calls[0][-3:] == [PYTORCH_CPU_INDEX, "TorchVision>=0.1", "torchaudio"]
    assert len(run_install_lines(("tqdm",), tmp_path)) == 1


def test_the_pytorch_index_can_be_moved_or_left_out(tmp_path):
    """AUTOGRADER_TORCH_INDEX: a mirror; empty: no index at all (the wheel comes from
    PIP_FIND_LINKS), so a machine that cannot reach the index never waits on it."""
    moved = run_install_lines(("torch==2.13.0",), tmp_path,
                              AUTOGRADER_TORCH_INDEX="https://mirror.example/cpu")
    assert moved[0][4:7] == ["--no-deps", "--index-url", "https://mirror.example/cpu"]
    none = run_install_lines(("torch==2.13.0",), tmp_path, AUTOGRADER_TORCH_INDEX="")
    assert none[0][4:6] == ["--no-deps", "--no-index"] and "--index-url" not in none[0]


def test_a_pytorch_assignment_bundle_says_so_in_setup_sh(tmp_path, wheel):
    """hw3's zip (packages = torch==2.13.0): the CPU index line comes before the usual one;
    hw1's setup.sh has none of it."""
    from autograder.bundle import PYTORCH_CPU_INDEX

    with zipfile.ZipFile(build_bundle("hw3", tmp_path, wheel=wheel)) as archive:
        setup = archive.read("setup.sh").decode()
    subprocess.run(["bash", "-n"], input=setup, text=True, check=True)
    cpu = setup.index('"${TORCH_FROM[@]}" torch==2.13.0')
    assert PYTORCH_CPU_INDEX in setup and cpu < setup.index("--quiet torch==2.13.0\n")
    with zipfile.ZipFile(build_bundle("hw1", tmp_path / "hw1", wheel=wheel)) as archive:
        assert "TORCH" not in archive.read("setup.sh").decode()


def test_each_assignment_bundles_only_its_own_folder(tmp_path, wheel):
    """hw2's zip carries hw2's manifest (its limits), graders, reference and data, no hw1."""
    with zipfile.ZipFile(build_bundle("hw2", tmp_path, wheel=wheel)) as archive:
        names = archive.namelist()
        run = archive.read("run_autograder").decode()
    assert {"solutions/hw2/assignment.toml", "solutions/hw2/graders.py",
            "solutions/hw2/reference.py", "assignments/hw2/digits.npz"} <= set(names)
    assert not [n for n in names if "hw1" in n or "examples" in n or "master" in n]
    assert [n for n in names if n.endswith(".ipynb")] == ["assignments/hw2/hw2.ipynb"]
    assert "grade hw2 " in run
