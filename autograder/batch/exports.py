"""What an incremental export needs: which students' files are up to date.

``OUT/.exported.json`` keeps, per student, the digest of what their files were
last written from (``export_key``: the record with the ledger's adjustments, the
export choice, the code that writes them); ``batch.run.export`` writes a
student's files again only when that digest changed or a file is missing.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..gradebook import ledger
from ..gradebook.results import TA_LOG_DIR, SubmissionResult

EXPORTED = ".exported.json"  # student id -> digest of what their files were last written from


def files_present(out: Path, student_id: str) -> bool:
    """Whether every file ``export_student`` writes for this student is there."""
    return all(path.is_file() for path in (*(out / student_id / name for name in (
        "results.json", "feedback.md", "feedback.html")), out / TA_LOG_DIR / f"{student_id}.json"))


def read_exported(out: Path) -> dict[str, str]:
    try:
        data = json.loads((out / EXPORTED).read_text(encoding="utf-8"))
        return {k: v for k, v in data.items() if isinstance(v, str)}
    except (OSError, ValueError, AttributeError):  # missing, damaged, not an object
        return {}


def export_key(result: SubmissionResult, assignment: str, show_test_names: bool,
               code: str) -> str:
    # repr, not to_record(): the dataclasses' repr shows every field as well, ten times faster
    return hashlib.sha256(f"{assignment}\0{show_test_names}\0{code}\0{result!r}"
                          .encode()).hexdigest()


def export_code() -> str:
    """A digest of the code that writes a student's files (gradebook/, batch/run.py, this)."""
    digest = hashlib.sha256()
    for path in sorted(Path(ledger.__file__).parent.glob("*.py")) + \
            [Path(__file__).with_name("run.py"), Path(__file__)]:
        digest.update(path.read_bytes())
    return digest.hexdigest()
