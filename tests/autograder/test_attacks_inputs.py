"""No single input stops a batch, leaves OUT, or reaches a person raw (issue 10, parts 2-5).

One batch grades a folder holding every hostile name and file below beside an
honest student; two more grade hostile zips. Each must end with exit code 0,
a gradebook with one row per submission, the honest student at 100, nothing
written outside ``--out``, and every export valid UTF-8 without control
characters or spreadsheet formulas.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[2]
REFERENCE = (REPO / "solutions" / "hw1" / "reference.py").read_text()
KOREAN_CP949 = "김민준".encode("cp949")


def notebook(*sources: str) -> str:
    return nbformat.writes(nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(s) for s in sources]))


def deep_json() -> str:
    return ('{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [], "x": '
            + "[" * 100_000 + "]" * 100_000 + "}")


def many_cells(count: int) -> str:
    cells = [{"cell_type": "code", "source": "1", "metadata": {}, "outputs": [],
              "execution_count": None}] * count
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells})


FOLDER = {  # path under the submissions folder (bytes: not UTF-8) -> content
    "honest.ipynb": notebook(REFERENCE),
    "surrogate.ipynb": notebook(REFERENCE, 'raise ValueError("\\ud800 lone surrogate")'),
    "surrogate2.ipynb": notebook(REFERENCE,
                                 'def sigmoid(x):\n    raise ValueError("\\udcff\\ud800")'),
    KOREAN_CP949 + b".ipynb": notebook(REFERENCE),
    "gradebook.sqlite/hw1.ipynb": notebook(REFERENCE),
    "gradebook.csv/hw1.ipynb": notebook(REFERENCE),
    "run.txt/hw1.ipynb": notebook(REFERENCE),
    "report/hw1.ipynb": notebook(REFERENCE),  # the TA report's folder
    "_ta_logs/hw1.ipynb": notebook(REFERENCE),
    "HW1_.._attempt_2026-03-01-10-00-00_hw1.ipynb": notebook(REFERENCE),
    "HW1_.._attempt_2026-03-01-10-00-00.txt": "Name: Kim Minjun (..)\n",
    "\x1b[31mred\x1b]0;pwn\x07.ipynb": notebook(REFERENCE),
    "-2+3.ipynb": notebook(REFERENCE),
    "@A1.ipynb": notebook(REFERENCE),
    "=cmd.ipynb": notebook(REFERENCE),
    "deep.ipynb": deep_json(),
    "cells.ipynb": many_cells(100_000),
    "expression.ipynb": notebook("x = " + "+".join(["1"] * 100_000)),
    "overflow.ipynb": notebook(REFERENCE, "def mean_squared_error(y_hat, y):\n"
                                          "    return 10**400"),
    "escape-output.ipynb": notebook(REFERENCE, "def sigmoid(x):\n"
                                               "    raise ValueError('\\x1b[2J\\x1b]0;x\\x07 \\x9b')"),
}


def _write(root: Path, files: dict) -> None:
    for name, content in files.items():
        path = os.path.join(os.fsencode(root), name if isinstance(name, bytes) else name.encode())
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(content)


def _grade(source: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder", "grade", "hw1", str(source),
                           "--out", str(out), "--jobs", "2", "--seed", "7", "--cell-timeout", "20",
                           "--submission-timeout", "90", "--quiet"],
                          capture_output=True, timeout=900, check=False)


@pytest.fixture(scope="module")
def folder_batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("inputs")
    source, out = root / "subs", root / "area" / "out"
    out.parent.mkdir()
    _write(source, FOLDER)
    run = _grade(source, out)
    return root, out, run


def _rows(out: Path) -> list[dict[str, str]]:
    with (out / "gradebook.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_batch_finishes_with_a_row_per_submission(folder_batch):
    _, out, run = folder_batch
    assert run.returncode == 0, run.stdout + run.stderr
    rows = _rows(out)
    notebooks = [n for n in FOLDER if not str(n).endswith(".txt")]
    assert len(rows) == len(notebooks), [r["student_id"] for r in rows]
    assert len({r["student_id"] for r in rows}) == len(rows)
    honest = {r["student_id"]: r for r in rows}["honest"]
    assert honest["score"] == "100"


def test_nothing_is_written_outside_out(folder_batch):
    root, out, _ = folder_batch
    assert sorted(p.name for p in out.parent.iterdir()) == ["out"]
    assert sorted(p.name for p in root.iterdir()) == ["area", "subs"]


def test_ta_files_are_not_student_folders(folder_batch):
    _, out, _ = folder_batch
    assert (out / "gradebook.sqlite").is_file() and (out / "gradebook.csv").is_file()
    assert (out / "run.txt").is_file()
    for log in (out / "_ta_logs").iterdir():  # only TA logs, no student's results.json
        assert log.suffix == ".json" and log.is_file(), log
    for folder in out.iterdir():
        if folder.is_dir() and folder.name != "_ta_logs":
            assert not folder.name.startswith(("_", ".")), folder


def test_exports_are_utf8_without_controls_or_formulas(folder_batch):
    _, out, _ = folder_batch
    controls = {chr(c) for c in [*range(9), *range(11, 32), *range(127, 160)]}
    for path in out.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".md", ".html", ".csv", ".txt"):
            text = path.read_bytes().decode("utf-8")  # raises on anything not UTF-8
            if path.parent.name != "_ta_logs":
                assert not controls & set(text.replace("\r\n", "\n")), path
    for row in _rows(out):
        assert not row["student_id"].startswith(("=", "+", "-", "@", "\t", "\r")), row
    assert any(row["student_id"].startswith("'") for row in _rows(out))  # -2+3 / @A1 kept


def test_student_caused_problems_are_invalid_or_graded_never_error(folder_batch):
    _, out, _ = folder_batch
    status = {r["student_id"]: r["status"] for r in _rows(out)}
    assert status["deep"] == "invalid"
    assert status["cells"] == "invalid"
    cells = json.loads((out / "cells" / "results.json").read_text())
    assert "over the limit" in cells["extra_data"]["message"]
    assert status["expression"] in ("graded", "invalid")
    assert "error" not in status.values(), status


def test_overflowing_return_is_the_students_failure(folder_batch):
    _, out, _ = folder_batch
    data = json.loads((out / "overflow" / "results.json").read_text())
    mse = [t for t in data["tests"] if t["tags"] == ["mean_squared_error"]]
    assert mse and all(t["status"] == "failed" for t in mse)
    assert not any("internal grader error" in t["output"] for t in mse), mse
    log = json.loads((out / "_ta_logs" / "overflow.json").read_text())
    assert not log["extra"]["internal_errors"]


def test_lone_surrogates_keep_their_bytes_for_the_ta(folder_batch):
    _, out, _ = folder_batch
    rows = {r["student_id"]: r for r in _rows(out)}
    assert rows["surrogate2"]["sigmoid"] == "0"
    assert rows["surrogate"]["score"] == "100"


@pytest.fixture(scope="module")
def zip_batches(tmp_path_factory):
    root = tmp_path_factory.mktemp("zips")
    same = root / "same-name.zip"
    with zipfile.ZipFile(same, "w") as archive:
        archive.writestr("kim", "not a notebook")
        archive.writestr("kim/hw1.ipynb", notebook(REFERENCE))
        archive.writestr("lee.ipynb", notebook(REFERENCE))
    korean = root / "cp949.zip"
    with zipfile.ZipFile(korean, "w") as archive:
        archive.writestr("PLACEHOLDER.ipynb", notebook(REFERENCE))
        archive.writestr("lee.ipynb", notebook(REFERENCE))
    data = korean.read_bytes().replace(b"PLACEHOLDER", KOREAN_CP949.ljust(11, b"_"))
    korean.write_bytes(data)  # a raw CP949 name, without zip's UTF-8 flag
    return {name: (_grade(path, root / f"out-{name}"), root / f"out-{name}")
            for name, path in (("same", same), ("korean", korean))}


@pytest.mark.parametrize("name", ["same", "korean"])
def test_hostile_zip_does_not_stop_the_batch(zip_batches, name):
    run, out = zip_batches[name]
    assert run.returncode == 0, run.stdout + run.stderr
    rows = {r["student_id"]: r for r in _rows(out)}
    assert rows["lee"]["score"] == "100"
    if name == "same":
        assert rows["kim"]["score"] == "100"


def test_blackboard_collision_keeps_both_rows(tmp_path):
    """``kim~minjun`` must not replace ``kim_minjun`` (ids: intake's job, issue 10 part 4)."""
    source = tmp_path / "subs"
    _write(source, {"kim_minjun.ipynb": notebook(REFERENCE), "kim~minjun.ipynb": notebook("x=1")})
    run = _grade(source, tmp_path / "out")
    assert run.returncode == 0, run.stdout + run.stderr
    rows = _rows(tmp_path / "out")
    assert len(rows) == 2, rows
    assert {r["score"] for r in rows} == {"100", "0"}


def _zip_bytes(members: dict[str, str]) -> bytes:
    import io
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def slip_batches(tmp_path_factory):
    """Issue 22 item 1: backslash names through a student's zip, a Blackboard attachment and
    the batch zip itself, all aimed at ``victim/`` beside the run (never at the machine)."""
    root = tmp_path_factory.mktemp("slip")
    victim = str(root / "victim").replace("/", "\\")
    source = root / "subs"
    _write(source, {"honest.ipynb": notebook(REFERENCE)})
    (source / "kim.zip").write_bytes(_zip_bytes({f"{victim}\\kim.ipynb": notebook(REFERENCE)}))
    stem = "HW1_lee_attempt_2026-03-01-10-00-00"
    (source / f"{stem}.txt").write_text("Name: Lee (lee)\n")
    (source / f"{stem}_hw1.zip").write_bytes(
        _zip_bytes({f"\\{victim}\\lee.ipynb": notebook(REFERENCE)}))
    download = root / "download.zip"
    download.write_bytes(_zip_bytes({"honest.ipynb": notebook(REFERENCE),
                                     f"{victim}\\park.ipynb": notebook(REFERENCE)}))
    (root / "area").mkdir()
    (root / "tmp").mkdir()
    env = {**os.environ, "TMPDIR": str(root / "tmp")}
    runs = {}
    for name, path in (("folder", source), ("zip", download)):
        out = root / "area" / name
        runs[name] = (subprocess.run(
            [sys.executable, "-m", "autograder", "grade", "hw1", str(path), "--out", str(out),
             "--jobs", "1", "--seed", "7", "--quiet"],
            capture_output=True, timeout=900, check=False, env=env), out)
    return root, runs


def test_archive_members_write_nothing_outside_out_and_temp(slip_batches):
    root, runs = slip_batches
    assert not (root / "victim").exists()
    assert sorted(p.name for p in root.iterdir()) == ["area", "download.zip", "subs", "tmp"]
    assert sorted(p.name for p in (root / "area").iterdir()) == ["folder", "zip"]
    for run, out in runs.values():
        assert run.returncode == 0, run.stdout + run.stderr
        rows = {r["student_id"]: r for r in _rows(out)}
        assert rows["honest"]["score"] == "100"
    folder = {r["student_id"]: r for r in _rows(runs["folder"][1])}
    assert folder["kim"]["status"] == folder["lee"]["status"] == "missing", folder
    assert b"unsafe path" in runs["zip"][0].stderr
