"""The report is incremental: unchanged inputs leave it as it is; a changed notebook is the
only one fingerprinted again; the stored fingerprints are those a fresh run computes."""

from __future__ import annotations

import sqlite3

import nbformat
import pytest
from report_site import OWN, RENAMED, build_site, notebook, result
from report_site import tests_for as outcomes_for

from autograder import report
from autograder.gradebook.store import DB_NAME, Gradebook
from autograder.report import fingerprint_store as fingerprints
from autograder.report import plots, write_report


def test_unchanged_inputs_leave_the_report_and_a_change_refingerprints_one(tmp_path,
                                                                           monkeypatch):
    out, index = build_site(tmp_path)
    source = tmp_path / "submissions"
    first = index.read_text()
    stored = sqlite3.connect(out / fingerprints.STORE).execute(
        "SELECT count(*) FROM prints").fetchone()[0]
    assert stored == 4  # the graded and timed-out notebooks: copy_a, copy_b, honest, slow

    def broken(*args, **kwargs):
        raise AssertionError("the report was drawn again")

    monkeypatch.setattr(plots, "start", broken)
    assert write_report("hw1", out, source) == index  # nothing changed: nothing redrawn
    assert index.read_text() == first
    monkeypatch.undo()

    computed = spy(monkeypatch, fingerprints, "prints_of", lambda skeleton, path: path.stem)
    nbformat.write(notebook(OWN + "\n# a comment\n"), source / "honest.ipynb")
    write_report("hw1", out, source)
    assert computed == ["honest"]
    assert not any("honest" in page.read_text() for page in index.parent.glob("pair-*.html"))
    nbformat.write(notebook(RENAMED), source / "honest.ipynb")  # now copy_b's very bytes:
    write_report("hw1", out, source)  # ... whose fingerprints are stored already
    assert computed == ["honest"]
    assert any("honest" in page.read_text() for page in index.parent.glob("pair-*.html"))


@pytest.mark.parametrize("jobs", [1, 2])
def test_stored_and_parallel_fingerprints_are_the_fresh_ones(tmp_path, monkeypatch, jobs):
    monkeypatch.setattr(fingerprints, "PARALLEL_FROM", 2)
    skeleton = report.skeleton_of(report.Assignment.find("hw1"))
    notebooks = []
    for name, answer in {"a": OWN, "b": RENAMED}.items():
        path = tmp_path / f"{name}.ipynb"
        nbformat.write(notebook(answer), path)
        notebooks.append((name, path, fingerprints.file_sha256(path)))
    fresh = {sid: fingerprints.prints_of(skeleton, path) for sid, path, _ in notebooks}
    assert dict(fingerprints.fingerprints(skeleton, notebooks, tmp_path / "r", jobs)) == fresh
    assert dict(fingerprints.fingerprints(skeleton, notebooks, tmp_path / "r", jobs)) == fresh


def test_the_figures_are_drawn_again_only_when_what_they_plot_changed(tmp_path, monkeypatch):
    """A notebook changed without its score moving: the pages are written again, the
    figures are not (nor is matplotlib imported); a score that moves redraws them."""
    out, index = build_site(tmp_path)
    source = tmp_path / "submissions"
    drawn = spy(monkeypatch, plots, "start", lambda data, folder: data.assignment)
    figures = sorted(p.name for p in index.parent.glob("*.svg"))
    nbformat.write(notebook(OWN + "\n# a comment\n"), source / "honest.ipynb")
    before = index.stat().st_mtime_ns
    write_report("hw1", out, source)
    assert drawn == [] and index.stat().st_mtime_ns != before
    assert sorted(p.name for p in index.parent.glob("*.svg")) == figures
    with Gradebook.open(out / DB_NAME) as book:
        run = book.start_run("hw1", 1, "v1", "bubblewrap", ["test"])
        book.add_result(run, result("honest", "graded", outcomes_for(False, "wrong")), "1" * 64)
        book.finish_run(run)
    write_report("hw1", out, source)
    assert drawn == ["hw1"]


def spy(monkeypatch, owner, name: str, label):
    """Replace ``owner.name`` by itself, noting ``label(*args)`` of each call in the list
    returned."""
    calls = []
    real = getattr(owner, name)

    def counted(*args):
        calls.append(label(*args))
        return real(*args)

    monkeypatch.setattr(owner, name, counted)
    return calls
