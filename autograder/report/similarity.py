"""Pairwise similarity of students' code per question (winnowed token fingerprints).

A question's code in a notebook: the code cells that define a name the
skeleton defines for that question (``def perceptron``, ``AND_WEIGHTS = ...``),
found by parsing; a cell that does not parse belongs to the question of the next
``grader.check("qid")`` cell (otter's structure). The skeleton's own segments
come from its ``grader.check`` cells.

Fingerprints (Schleimer, Wilkerson and Aiken's winnowing, as in MOSS): the
code is tokenised with ``tokenize``; comments and layout are dropped,
identifiers become ``V`` (renaming changes nothing) except attribute names,
builtins and modules such as ``np``; strings become ``S``. Each ``K``-gram of
tokens is hashed (crc32) and the minimum of each window of ``W`` hashes kept.
Then, per question, fingerprints of the skeleton are dropped (its docstrings,
``raise NotImplementedError``), and so are fingerprints that more than
``common_share`` of the class, or more than ``MAX_HOLDERS`` students, have
(the one obvious way to write a sigmoid is not evidence of copying; MOSS's
``-m`` is the same rule). What is left is compared only where it is shared
(``Index``: a sparse students x fingerprints matrix times its transpose), so
time and memory grow with the class size, never with its square.

Nothing here runs student code: notebooks are read as JSON and parsed.
"""

from __future__ import annotations

import ast
import builtins
import dataclasses
import io
import json
import keyword
import re
import tokenize
import zlib
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..intake.notebook import MAX_NOTEBOOK_BYTES, is_otter_cell

K, W = 5, 4
MAX_HOLDERS = 100  # a fingerprint more students have is no evidence (MOSS: -m)
ANSWER_TAG = "otter_answer_cell"
KEEP_NAMES = frozenset(dir(builtins)) | {"np", "numpy", "math", "torch", "plt", "self"}
CHECK = re.compile(r"""grader\.check\(\s*['"]([^'"]+)['"]""")
MAGIC = re.compile(r"^\s*[%!].*$", re.MULTILINE)


@dataclass(frozen=True)
class Code:
    """One student's code for one question, and its fingerprints (hash -> line numbers)."""

    source: str
    prints: Mapping[int, frozenset[int]]


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    score: float  # shared / union of the pair's rare fingerprints, all questions together
    questions: dict[str, float]  # per-question Jaccard, where both have code
    shared_lines: dict[str, tuple[frozenset[int], frozenset[int]]] = field(default_factory=dict)


def cells_of(path: Path, *, tag: str | None = None) -> list[str]:
    """The code cells of a notebook file (those tagged ``tag`` if given), read as JSON;
    [] when it is not a notebook (never raises)."""
    try:
        if path.stat().st_size > MAX_NOTEBOOK_BYTES:
            return []
        raw = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (OSError, ValueError, RecursionError):
        return []
    cells = raw.get("cells") if isinstance(raw, dict) else None
    out = []
    for cell in cells if isinstance(cells, list) else []:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(s for s in source if isinstance(s, str))
        metadata = cell.get("metadata")
        tags = metadata.get("tags") if isinstance(metadata, dict) else None
        if isinstance(source, str) and (tag is None or isinstance(tags, list) and tag in tags):
            out.append(source)
    return out


def segments(cells: list[str], questions: Iterable[str]) -> dict[str, list[str]]:
    """Cells grouped by the ``grader.check("qid")`` cell that follows them (otter's layout)."""
    known = set(questions)
    found: defaultdict[str, list[str]] = defaultdict(list)
    pending: list[str] = []
    for source in cells:
        match = CHECK.search(source)
        if match and is_otter_cell(source):
            if match.group(1) in known:
                found[match.group(1)] += pending
            pending = []
        elif source.strip() and not is_otter_cell(source):
            pending.append(source)
    return dict(found)


def defined_names(source: str) -> set[str] | None:
    """Top-level names a cell defines (functions, classes, assignments); None if unparsable."""
    try:
        tree = ast.parse(MAGIC.sub("", source))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names


@dataclass(frozen=True)
class Skeleton:
    """Per question: the names its answer cells define, and the skeleton's fingerprints."""

    names: dict[str, set[str]]
    prints: dict[str, set[int]]

    @classmethod
    def from_notebook(cls, path: Path, questions: Iterable[str]) -> Skeleton:
        parts = segments(cells_of(path), questions)
        answers = set(cells_of(path, tag=ANSWER_TAG))  # otter's answer cells, if tagged
        names = {q: set().union(*(defined_names(c) or set() for c in cells
                                  if c in answers or not answers))
                 for q, cells in parts.items()}
        prints = {q: set(fingerprint("\n".join(cells))) for q, cells in parts.items()}
        return cls(names, prints)

    def split(self, cells: list[str]) -> dict[str, str]:
        """A student's code per question: cells by the names they define, else by position."""
        owner = {name: q for q, names in self.names.items() for name in names}
        by_position: dict[int, str] | None = None
        code = defaultdict(list)
        for number, source in enumerate(cells):
            if (_maybe_otter(source) and is_otter_cell(source)
                    or not any(name in source for name in owner)):  # defines none of them
                continue
            names = defined_names(source)
            if names is None:  # unparsable: otter's layout decides (computed once, if needed)
                if by_position is None:
                    by_position = _positions(cells, self.names)
                question = by_position.get(number)
            else:
                votes = Counter(owner[n] for n in names if n in owner)
                question = votes.most_common(1)[0][0] if votes else None
            if question is not None:
                code[question].append(source)
        return {q: "\n\n".join(sources) for q, sources in code.items()}


def _maybe_otter(source: str) -> bool:
    return "otter" in source or "grader" in source


def _positions(cells: list[str], questions: Iterable[str]) -> dict[int, str]:
    """Cell number -> the question of the next ``grader.check`` cell."""
    known = set(questions)
    found: dict[int, str] = {}
    pending: list[int] = []
    for number, source in enumerate(cells):
        match = CHECK.search(source)
        if match and is_otter_cell(source):
            if match.group(1) in known:
                found.update(dict.fromkeys(pending, match.group(1)))
            pending = []
        else:
            pending.append(number)
    return found


def tokens(source: str) -> list[tuple[str, int]]:
    """Normalised tokens with their line numbers; stops quietly where tokenize gives up."""
    out: list[tuple[str, int]] = []
    previous = ""
    try:
        for tok in tokenize.generate_tokens(io.StringIO(MAGIC.sub("", source)).readline):
            kind, value = tok.type, tok.string
            if kind in (tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER):
                continue
            if kind == tokenize.NAME and not (keyword.iskeyword(value) or value in KEEP_NAMES
                                              or previous == "."):
                value = "V"
            elif kind == tokenize.STRING:
                value = "S"
            elif kind == tokenize.NEWLINE:
                value = ";"
            out.append((value, tok.start[0]))
            previous = tok.string
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return out


def fingerprint(source: str) -> dict[int, frozenset[int]]:
    """Winnowed K-gram hashes of the code, each with the lines its K-gram spans."""
    toks = tokens(source)
    words = [t for t, _ in toks]
    hashes = [zlib.crc32("\x1f".join(words[i:i + K]).encode())
              for i in range(len(toks) - K + 1)]
    chosen: dict[int, set[int]] = defaultdict(set)
    for start in range(max(len(hashes) - W + 1, 1 if hashes else 0)):
        window = hashes[start:start + W]
        low = start + window.index(min(window))
        chosen[hashes[low]].update(range(toks[low][1], toks[low + K - 1][1] + 1))
    return {h: frozenset(lines) for h, lines in chosen.items()}


def student_code(skeleton: Skeleton, cells: list[str]) -> dict[str, Code]:
    return {q: Code(source, fingerprint(source)) for q, source in skeleton.split(cells).items()}


def similar_pairs(codes: Mapping[str, Mapping[str, Code]], skeleton: Skeleton, *,
                  common_share: float = 0.2, min_common: int = 4, min_shared: int = 6,
                  top: int = 50, max_holders: int = MAX_HOLDERS) -> list[Pair]:
    """The ``top`` most similar pairs of students (ids), most similar first.

    A fingerprint counts when it is not the skeleton's and at most
    ``max(min_common, min(common_share * students, max_holders))`` students have
    it; a question counts for a pair when they share at least ``min_shared`` of them.
    """
    index = Index(skeleton)
    for student, code in codes.items():
        index.add(student, {q: c.prints.keys() for q, c in code.items()})
    pairs = index.pairs(common_share=common_share, min_common=min_common,
                        min_shared=min_shared, top=top, max_holders=max_holders)
    return index.with_lines(pairs, codes)


class Index:
    """The class's rare fingerprints per question, compared pair by pair only where shared.

    ``add`` keeps, per question, one (fingerprint, student) entry per fingerprint
    in two flat arrays (a few bytes each, nothing per pair). ``pairs`` then
    builds per question the sparse students x fingerprints matrix of the rare
    fingerprints and its sparse product with itself: only pairs that share a
    rare fingerprint ever exist, and a rare fingerprint has at most
    ``max_holders`` holders, so the work is bounded by the class size times a
    constant, never by the square of the class.
    """

    def __init__(self, skeleton: Skeleton) -> None:
        self.skeleton = skeleton
        self.students: list[str] = []
        self._hashes: dict[str, array[int]] = {}
        self._owners: dict[str, array[int]] = {}
        self._rare: dict[str, np.ndarray] = {}  # filled by pairs(): the rare hashes, sorted

    def add(self, student: str, prints: Mapping[str, Iterable[int]]) -> None:
        """One student's fingerprints per question (the skeleton's are dropped here)."""
        number = len(self.students)
        self.students.append(student)
        for q, hashes in prints.items():
            mine = [h for h in hashes if h not in self.skeleton.prints.get(q, ())]
            self._hashes.setdefault(q, array("I")).extend(mine)
            self._owners.setdefault(q, array("i")).extend([number] * len(mine))

    def pairs(self, *, common_share: float = 0.2, min_common: int = 4, min_shared: int = 6,
              top: int = 50, max_holders: int = MAX_HOLDERS) -> list[Pair]:
        """The ``top`` most similar pairs, without their lines (``with_lines`` adds them)."""
        from scipy import sparse  # imported only when pairs are computed

        if min_shared < 1:
            raise ValueError("min_shared must be at least 1 (a pair shares something)")
        n = len(self.students)
        rank = np.empty(n, dtype=np.int64)  # pairs are ordered by the students' sorted ids
        rank[sorted(range(n), key=self.students.__getitem__)] = np.arange(n)
        limit = max(min_common, min(common_share * n, max_holders))
        found: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        for q in sorted(self._hashes):
            hashes = np.frombuffer(self._hashes[q], dtype=np.uint32)
            owners = rank[np.frombuffer(self._owners[q], dtype=np.int32)]
            unique, column, counts = np.unique(hashes, return_inverse=True, return_counts=True)
            rare = counts[column] <= limit
            self._rare[q] = unique[counts <= limit]
            sizes = np.bincount(owners[rare], minlength=n).astype(np.int64)
            multi = rare & (counts[column] >= 2)
            if not multi.any():
                continue
            matrix = sparse.csr_matrix(
                (np.ones(int(multi.sum()), dtype=np.int32), (owners[multi], column[multi])),
                shape=(n, len(unique)))
            product = sparse.triu(matrix @ matrix.T, k=1).tocoo()
            keep = product.data >= min_shared
            i, j = product.row[keep].astype(np.int64), product.col[keep].astype(np.int64)
            shared = product.data[keep].astype(np.int64)
            order = np.argsort(i * n + j)  # sorted by pair, for searchsorted below
            i, j, shared = i[order], j[order], shared[order]
            found[q] = (i * n + j, shared, sizes[i] + sizes[j] - shared)
        if not found:
            return []
        keys, inverse = np.unique(np.concatenate([f[0] for f in found.values()]),
                                  return_inverse=True)
        shared_total = np.bincount(inverse, np.concatenate([f[1] for f in found.values()]))
        union_total = np.bincount(inverse, np.concatenate([f[2] for f in found.values()]))
        score = shared_total / np.maximum(union_total, 1)
        by_rank = sorted(self.students)
        pairs = []
        for k in np.argsort(-score, kind="stable")[:top]:
            i, j = divmod(int(keys[k]), n)
            per = {}
            for q, (qkeys, shared, union) in found.items():
                at = int(np.searchsorted(qkeys, keys[k]))
                if at < len(qkeys) and qkeys[at] == keys[k]:
                    per[q] = round(float(shared[at] / max(union[at], 1)), 3)
            pairs.append(Pair(by_rank[i], by_rank[j], round(float(score[k]), 3), per))
        return pairs

    def with_lines(self, pairs: list[Pair],
                   codes: Mapping[str, Mapping[str, Code]]) -> list[Pair]:
        """The pairs with the lines of each side that hold a rare fingerprint they share."""
        out = []
        for pair in pairs:
            lines = {}
            for q in pair.questions:
                a, b = codes[pair.a][q], codes[pair.b][q]
                rare = self._rare.get(q, np.empty(0))
                common = [h for h in a.prints.keys() & b.prints.keys()
                          if h not in self.skeleton.prints.get(q, ())
                          and _holds(rare, h)]
                lines[q] = (frozenset().union(*(a.prints[h] for h in common)),
                            frozenset().union(*(b.prints[h] for h in common)))
            out.append(dataclasses.replace(pair, shared_lines=lines))
        return out


def _holds(sorted_hashes: np.ndarray, value: int) -> bool:
    at = int(np.searchsorted(sorted_hashes, value))
    return at < len(sorted_hashes) and int(sorted_hashes[at]) == value
