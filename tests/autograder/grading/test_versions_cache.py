"""The engine part of the grader version is cached (parsing the engine took most of a second
of every run), and the cached answer is never stale: any change to a file it may depend on
(a module, the grader, a module added where an import pointed at nothing) gives the answer
a fresh parse gives; an unchanged engine is answered without parsing or reading."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from autograder.grading import versions
from autograder.grading.versions import engine_files

PROJECT_ROOT = Path(__file__).resolve().parents[3]
HOUR_NS = 3600 * 10**9


@pytest.fixture
def engine(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    copy = tmp_path / "autograder"
    shutil.copytree(PROJECT_ROOT / "autograder", copy,
                    ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def write_grader(tmp_path, source="from autograder.toolkit.checks import as_float\n"):
    grader = tmp_path / "graders.py"
    grader.write_text(source)
    return grader


def fresh(grader, engine):
    return versions._engine_files(grader.resolve(), engine.resolve())


def age(*roots):
    """Every file an hour old: nothing is too recent for its time to tell a change."""
    for root in roots:
        for path in [root] if root.is_file() else root.rglob("*"):
            stat = path.stat()
            os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns - HOUR_NS))


def test_an_unchanged_engine_is_answered_without_parsing_or_reading(tmp_path, engine,
                                                                    monkeypatch):
    grader = write_grader(tmp_path)
    age(engine, grader)
    first = engine_files(grader, engine)
    assert first == fresh(grader, engine)
    assert list((tmp_path / "cache" / "autograder").glob("versions-*.json"))

    def no(*args, **kwargs):
        raise AssertionError("the engine was parsed or read again")

    monkeypatch.setattr(versions, "_engine_files", no)
    monkeypatch.setattr(versions, "_contents_digest", no)
    assert engine_files(grader, engine) == first


def same_size_edit(path: Path) -> None:
    """Change one character of the docstring, keeping the size and the modification time."""
    stat = path.stat()
    source = path.read_text()
    at = source.index('"""') + 3
    path.write_text(source[:at] + ("X" if source[at] != "X" else "Y") + source[at + 1:])
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size


@pytest.mark.parametrize("change", ["module", "module, same size and time", "grader",
                                    "module added", "toolkit, used part"])
def test_every_change_a_grade_may_depend_on_changes_the_answer(tmp_path, engine, change):
    grader = write_grader(tmp_path, "from autograder.toolkit.checks import as_float\n"
                                    "from autograder.toolkit import not_yet\n")
    if change != "module, same size and time":
        age(engine, grader)  # then only a changed size or time can tell
    before = engine_files(grader, engine)
    assert engine_files(grader, engine) == before
    box = engine / "sandbox" / "box.py"
    if change == "module":
        box.write_text(box.read_text() + "\n# changed\n")
        age(box)  # older than the cached answer, yet a different time and size
    elif change == "module, same size and time":  # written as the answer was: by content
        same_size_edit(box)
    elif change == "grader":
        grader.write_text(grader.read_text() + "from autograder.toolkit.checks import *\n")
    elif change == "module added":
        (engine / "toolkit" / "not_yet.py").write_text("VALUE = 1\n")
    else:
        checks = engine / "toolkit" / "checks.py"
        checks.write_text(checks.read_text().replace("if it is a real number", "if it is a number"))
    after = engine_files(grader, engine)
    assert after != before
    assert after == fresh(grader, engine)
    assert engine_files(grader, engine) == after


def test_a_damaged_or_unwritable_cache_costs_only_time(tmp_path, engine, monkeypatch):
    grader = write_grader(tmp_path)
    expected = fresh(grader, engine)
    assert engine_files(grader, engine) == expected
    for cache in (tmp_path / "cache" / "autograder").glob("versions-*.json"):
        cache.write_text('{"format": 1, "parts": 3')
    assert engine_files(grader, engine) == expected
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))  # its cache folder cannot be made
    assert engine_files(grader, engine) == expected
