"""``grade`` fingerprints each notebook in the grading process that graded it
(``fingerprint_store.Prefill``): the report that follows finds them all stored, the very
fingerprints it would compute, and only compares."""

from __future__ import annotations

import nbformat
from report_site import OWN, RENAMED, notebook

from autograder import cli, report
from autograder.report import fingerprint_store as fingerprints
from autograder.report import write_report


def test_grade_stores_the_fingerprints_and_the_report_computes_none(tmp_path, monkeypatch):
    source, out = tmp_path / "subs", tmp_path / "out"
    source.mkdir()
    for name, answer in {"a": OWN, "b": RENAMED}.items():
        nbformat.write(notebook(answer), source / f"{name}.ipynb")
    computed: list[str] = []
    real = fingerprints._compute

    def counted(skeleton, missing, jobs):
        computed.extend(path.stem for _, path, _ in missing)
        return real(skeleton, missing, jobs)

    monkeypatch.setattr(fingerprints, "_compute", counted)  # this process only
    assert cli.main(["grade", "hw1", str(source), "--out", str(out), "--quiet"]) == 0
    assert (out / "report" / "index.html").is_file()
    assert computed == []  # every notebook's fingerprints were stored while grading
    skeleton = report.skeleton_of(report.Assignment.find("hw1"))
    notebooks = [(p.stem, p, fingerprints.file_sha256(p)) for p in sorted(source.iterdir())]
    assert dict(fingerprints.fingerprints(skeleton, notebooks, out)) == \
        {sid: fingerprints.prints_of(skeleton, path) for sid, path, _ in notebooks}
    assert computed == []

    (out / fingerprints.STORE).unlink()  # without them, the report computes both
    (out / "report" / ".inputs").unlink()
    write_report("hw1", out, source)
    assert sorted(computed) == ["a", "b"]
