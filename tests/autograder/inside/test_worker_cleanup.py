"""The zygote's fallback cleanup never walks into a mount point (issue: a checkout under /tmp).

When the kernel refuses a fresh world per worker, the zygote empties the shared
scratch folders itself. A checkout (and its venv) under ``/tmp`` is bound
read-only *inside* the sandbox's ``/tmp``: the old cleanup walked into that bind
and tried to delete every file of the venv, for each submission. ``worker._remove``
stops at a different device. This test builds that layout for real (a tmpfs
scratch folder with a read-only bind mount of a folder of another file system in
it) in a private mount namespace, and records every folder the cleanup lists.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

AUTOGRADER = Path(__file__).resolve().parents[3] / "autograder" / "inside"

SCRIPT = textwrap.dedent("""
    import json, os, subprocess, sys
    sys.path.insert(0, sys.argv[1])
    import worker
    scratch, venv, mode = sys.argv[2], sys.argv[3], sys.argv[4]
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", scratch], check=True)
    os.makedirs(f"{scratch}/left/deep", mode=0o700)
    for name in ("a.txt", "left/b.txt", "left/deep/c.txt"):
        open(f"{scratch}/{name}", "w").write("x")
    os.chmod(f"{scratch}/left/deep", 0)  # a student's chmod 0 does not stop it either
    os.mkdir(f"{scratch}/venv")
    subprocess.run(["mount", "--bind", venv, f"{scratch}/venv"], check=True)
    if mode == "ro":
        subprocess.run(["mount", "-o", "remount,bind,ro", f"{scratch}/venv"], check=True)
    listed = []
    real_listdir = os.listdir
    os.listdir = lambda path=".": listed.append(str(path)) or real_listdir(path)
    device = os.lstat(scratch).st_dev
    for entry in worker._entries(scratch):
        worker._remove(entry, device)
    os.listdir = real_listdir
    print(json.dumps({"left": sorted(real_listdir(scratch)), "listed": listed,
                      "venv": sorted(real_listdir(f"{scratch}/venv"))}))
""")


def _can_unshare() -> bool:
    return (os.geteuid() == 0 and shutil.which("unshare") is not None
            and subprocess.run(["unshare", "--mount", "true"], check=False,
                               capture_output=True).returncode == 0)


@pytest.mark.skipif(not _can_unshare(), reason="needs root and unshare --mount")
@pytest.mark.parametrize("mode", ["ro", "rw"])
def test_cleanup_empties_scratch_but_never_enters_a_bound_venv(tmp_path: Path, mode: str) -> None:
    """Read-only, as the sandbox binds the venv; writable, as any other mount inside."""
    venv = tmp_path / "venv"
    (venv / "lib" / "site-packages").mkdir(parents=True)
    for i in range(50):
        (venv / "lib" / "site-packages" / f"module{i}.py").write_text("x = 1\n")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    run = subprocess.run(["unshare", "--mount", "--propagation", "private", sys.executable,
                          "-c", SCRIPT, str(AUTOGRADER), str(scratch), str(venv), mode],
                         check=False, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["left"] == ["venv"]  # everything else deleted, the mount point kept
    assert seen["venv"] == ["lib"]  # the bound folder is untouched...
    assert not [p for p in seen["listed"] if "/venv" in p]  # ...and was never walked
    assert len(list((venv / "lib" / "site-packages").iterdir())) == 50
