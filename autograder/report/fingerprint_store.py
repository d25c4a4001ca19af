"""Each notebook's similarity fingerprints, stored by content, computed in parallel when many.

A notebook's fingerprints per question (``similarity.student_code``) depend only
on its bytes, the skeleton and the fingerprinting code, so they are kept in
``OUT/.fingerprints.sqlite`` under the sha256 of the file and a digest of
the other two: a re-run fingerprints only the notebooks that changed. Rows no
notebook of the run used are dropped, so the file stays the size of the class.

Many notebooks to fingerprint (a first run) are spread over a process pool, one
per core: fingerprinting is pure Python (``tokenize``, ``ast``) and holds the GIL.
``grade`` does better (``Prefill``): each grading process fingerprints the notebook
it has just graded, and the store is filled as the records arrive, so the report
that follows finds every notebook's fingerprints stored and only compares.
Nothing here runs student code: notebooks are read as JSON and parsed.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import functools
import hashlib
import importlib
import json
import multiprocessing
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Self

from .similarity import Skeleton, cells_of, student_code

STORE = ".fingerprints.sqlite"  # in OUT (a leading dot: no student id), not in the site
PARALLEL_FROM = 200  # fewer new notebooks than this are fingerprinted in this process
CHUNK = 64

Prints = dict[str, list[int]]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def setting(skeleton: Skeleton) -> str:
    """A digest of what fingerprints depend on besides the notebook: skeleton and code."""
    digest = hashlib.sha256(Path(student_code.__code__.co_filename).read_bytes())
    digest.update(json.dumps([sorted((q, sorted(n)) for q, n in skeleton.names.items()),
                              sorted((q, sorted(p)) for q, p in skeleton.prints.items())])
                  .encode())
    return digest.hexdigest()[:16]


def prints_of(skeleton: Skeleton, path: Path) -> Prints:
    return {q: sorted(code.prints) for q, code in student_code(skeleton, cells_of(path)).items()}


def fingerprints(skeleton: Skeleton, notebooks: list[tuple[str, Path, str]], folder: Path,
                 jobs: int | None = None) -> Iterator[tuple[str, Prints]]:
    """(student id, fingerprints per question) of each (id, path, sha256), stored ones read
    from ``folder/STORE``, the others computed (in parallel when many) and stored."""
    folder.mkdir(parents=True, exist_ok=True)
    salt = setting(skeleton)
    with contextlib.closing(sqlite3.connect(folder / STORE)) as db, db:
        db.execute("CREATE TABLE IF NOT EXISTS prints (key TEXT PRIMARY KEY, data TEXT)")
        db.execute("CREATE TEMP TABLE used (key TEXT PRIMARY KEY)")
        missing: list[tuple[str, Path, str]] = []
        for student_id, path, sha256 in notebooks:
            key = f"{sha256}:{salt}"
            db.execute("INSERT OR IGNORE INTO used VALUES (?)", (key,))
            row = db.execute("SELECT data FROM prints WHERE key = ?", (key,)).fetchone()
            if row is None:
                missing.append((student_id, path, key))
            else:
                yield student_id, json.loads(row[0])
        for (student_id, _, key), prints in zip(missing, _compute(skeleton, missing, jobs),
                                                strict=True):
            db.execute("INSERT OR REPLACE INTO prints VALUES (?, ?)", (key, json.dumps(prints)))
            yield student_id, prints
        db.execute("DELETE FROM prints WHERE key NOT IN (SELECT key FROM used)")


class Prefill:
    """Fingerprints computed in the grading processes and stored here as they arrive
    (``batch.pool.Alongside``): ``with Prefill(skeleton, out) as alongside:
    grade_all(..., alongside=alongside)``. Rows are committed every ``COMMIT_EVERY``
    and on leaving; the report drops those no notebook of its run uses."""

    COMMIT_EVERY = 200

    def __init__(self, skeleton: Skeleton, folder: Path) -> None:
        self._compute = functools.partial(prints_of, skeleton)
        self._salt = setting(skeleton)
        self._folder = folder
        self._db: sqlite3.Connection | None = None
        self._waiting = 0
        self._warming: threading.Thread | None = None

    @property
    def compute(self) -> Callable[[Path], object]:
        """Asked when a pool starts (there is something to grade): while the grading
        processes work and this one waits, the report's figures module (matplotlib, about
        half a second) is imported in a thread, so a run that grades a few notebooks does
        not wait for it after grading; ``__exit__`` waits for the thread."""
        if self._warming is None:
            self._warming = threading.Thread(target=importlib.import_module,
                                             args=(f"{__package__}.plots",), daemon=True)
            self._warming.start()
        return self._compute

    def __enter__(self) -> Self:
        self._folder.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self._folder / STORE)
        self._db.execute("CREATE TABLE IF NOT EXISTS prints (key TEXT PRIMARY KEY, data TEXT)")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._warming is not None:
            self._warming.join()
        if self._db is not None:
            self._db.commit()
            self._db.close()
            self._db = None

    def keep(self, sha256: str, value: object) -> None:
        if self._db is None or not sha256 or not isinstance(value, dict):
            return
        self._db.execute("INSERT OR REPLACE INTO prints VALUES (?, ?)",
                         (f"{sha256}:{self._salt}", json.dumps(value)))
        self._waiting += 1
        if self._waiting >= self.COMMIT_EVERY:
            self._db.commit()
            self._waiting = 0


def _compute(skeleton: Skeleton, missing: list[tuple[str, Path, str]],
             jobs: int | None) -> Iterator[Prints]:
    jobs = jobs or len(os.sched_getaffinity(0))
    paths = [path for _, path, _ in missing]
    if jobs < 2 or len(paths) < PARALLEL_FROM:
        yield from (prints_of(skeleton, path) for path in paths)
        return
    context = multiprocessing.get_context("forkserver")
    with cf.ProcessPoolExecutor(jobs, mp_context=context, initializer=_set_skeleton,
                                initargs=(skeleton,)) as pool:
        yield from pool.map(_prints_in_worker, paths, chunksize=CHUNK)


_SKELETON: list[Skeleton] = []


def _set_skeleton(skeleton: Skeleton) -> None:
    _SKELETON[:] = [skeleton]


def _prints_in_worker(path: Path) -> Prints:
    return prints_of(_SKELETON[0], path)
