"""The zygote reads matplotlib's font list from the one built on the trusted side, once per
machine, instead of scanning the fonts again in every grading process."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from autograder.sandbox import fonts, launch
from autograder.sandbox.launch import Limits
from autograder.sandbox.warm import close_sandboxes, worker_for

LOOK = ("import matplotlib.font_manager as fm\n"
        "print(sorted({f.name for f in fm.fontManager.ttflist if 'Marker' in f.name}))")


FONT_LIST = fonts.font_list


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch) -> Iterator[None]:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    FONT_LIST.cache_clear()
    yield
    close_sandboxes()
    FONT_LIST.cache_clear()


def test_the_list_is_built_once_and_is_matplotlibs(monkeypatch):
    built = fonts.font_list()
    assert built is not None and built.parent.parent == launch.cache_dir()
    assert built.name.startswith("fontlist-v") and json.loads(built.read_text())["ttflist"]
    fonts.font_list.cache_clear()
    monkeypatch.setattr(fonts, "_build", lambda home: pytest.fail("built again"))
    assert fonts.font_list() == built


@pytest.mark.skipif(launch.bubblewrap_problem() is not None, reason="the list is bound by bwrap")
def test_the_zygote_loads_the_list_it_is_lent(tmp_path, monkeypatch):
    """A list with a marker font (really DejaVu Sans) is the one the workers see."""
    built = fonts.font_list()
    assert built is not None
    planted = tmp_path / "planted" / built.name
    planted.parent.mkdir()
    listed = json.loads(built.read_text())
    marker = dict(next(f for f in listed["ttflist"] if f["name"] == "DejaVu Sans"),
                  name="Autograder Marker")
    listed["ttflist"].append(marker)
    planted.write_text(json.dumps(listed))
    monkeypatch.setattr(fonts, "font_list", lambda: planted)
    worker = worker_for([], Limits())
    reply = worker.request({"op": "run_cell", "source": LOOK}, 30)
    assert reply["status"] == "ok", reply
    assert reply["stdout"].strip() == "['Autograder Marker']"


def test_no_matplotlib_no_list(monkeypatch):
    def missing(name):
        raise fonts.importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(fonts.importlib.metadata, "version", missing)
    assert fonts.font_list() is None


def test_an_unwritable_cache_lends_no_list(tmp_path, monkeypatch):
    """A cache that cannot be written costs only the time: the zygote builds its own."""
    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "file"))
    assert fonts.font_list() is None
    assert fonts.font_flags("/tmp/matplotlib") == []
