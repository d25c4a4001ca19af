"""The CLI wiring of ``grade --hide-test-names`` and ``bundle`` (each run is a subprocess)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "solutions" / "hw1" / "examples" / "2023002"


def autograder(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)],
                          capture_output=True, text=True, timeout=120, cwd=REPO, check=False)


def test_grade_writes_feedback_and_hides_test_names_on_request(tmp_path):
    """Every student folder gets feedback.md/.html; the TA log sits outside it."""
    source, out = tmp_path / "subs", tmp_path / "out"
    shutil.copytree(EXAMPLE, source / "2023002")
    run = autograder("grade", "hw1", source, "--out", out, "--seed", "474", "--quiet",
                     "--hide-test-names")
    assert run.returncode == 0, run.stdout + run.stderr
    assert sorted(p.name for p in (out / "2023002").iterdir()) == \
        ["feedback.html", "feedback.md", "results.json"]
    assert (out / "_ta_logs" / "2023002.json").is_file()
    assert "test_names: hidden" in (out / "run.txt").read_text()
    results = json.loads((out / "2023002" / "results.json").read_text())
    assert all(" check " in t["name"] for t in results["tests"])
    feedback = (out / "2023002" / "feedback.md").read_text()
    assert f"**Score: {results['score']:g} / 100**" in feedback and "check 2 of 5" in feedback


def test_bundle_writes_the_zip_and_refuses_an_unknown_assignment(tmp_path):
    run = autograder("bundle", "hw1", "--out", tmp_path)
    assert run.returncode == 0 and (tmp_path / "hw1-gradescope-autograder.zip").is_file()
    run = autograder("bundle", "nosuch", "--out", tmp_path)
    assert run.returncode == 2 and run.stdout.startswith("autograder: error: no assignment")


def test_an_empty_submissions_folder_warns_and_says_what_it_looked_for(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("not a submission")
    done = autograder("grade", "hw1", tmp_path / "empty", "--out", tmp_path / "out", "--quiet")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "WARNING: no submission found in" in done.stdout
    assert ".ipynb" in done.stdout and "Blackboard" in done.stdout


def test_out_pointing_at_a_file_is_a_one_line_error(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "2023001.ipynb").write_text("{ not a notebook")
    (tmp_path / "out.txt").write_text("a file")
    done = autograder("grade", "hw1", tmp_path / "sub", "--out", tmp_path / "out.txt", "--quiet")
    assert done.returncode == 2
    assert "Traceback" not in done.stdout + done.stderr
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert len(lines) == 1 and "out.txt" in lines[0] and "not a folder" in lines[0]
