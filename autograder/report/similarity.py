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
``common_share`` of the class have (the one obvious way to write a sigmoid is
not evidence of copying). What is left is compared by a matrix product:
for 1,000 students that is one 1,000 x F product per question.

Nothing here runs student code: notebooks are read as JSON and parsed.
"""

from __future__ import annotations

import ast
import builtins
import io
import json
import keyword
import re
import tokenize
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..intake.notebook import MAX_NOTEBOOK_BYTES, is_otter_cell

K, W = 5, 4
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
                  top: int = 50) -> list[Pair]:
    """The ``top`` most similar pairs of students (ids), most similar first.

    A fingerprint counts when it is not the skeleton's and at most
    ``max(min_common, common_share * students)`` students have it; a question
    counts for a pair when they share at least ``min_shared`` of them.
    """
    students = sorted(codes)
    index = {s: i for i, s in enumerate(students)}
    n = len(students)
    shared_total = np.zeros((n, n), dtype=np.float64)
    union_total = np.zeros((n, n), dtype=np.float64)
    per_question: dict[str, np.ndarray] = {}
    kept: dict[str, dict[int, list[str]]] = {}
    questions = sorted({q for student in codes.values() for q in student})
    limit = max(min_common, common_share * n)
    for q in questions:
        holders: dict[int, list[str]] = defaultdict(list)
        sizes = np.zeros(n)
        for s in students:
            code = codes[s].get(q)
            if code is None:
                continue
            for h in code.prints.keys() - skeleton.prints.get(q, set()):
                holders[h].append(s)
        rare = {h: who for h, who in holders.items() if len(who) <= limit}
        for who in rare.values():
            for s in who:
                sizes[index[s]] += 1
        multi = [who for who in rare.values() if len(who) >= 2]
        if not multi:
            continue
        matrix = np.zeros((n, len(multi)), dtype=np.float32)
        for column, who in enumerate(multi):
            matrix[[index[s] for s in who], column] = 1.0
        shared = matrix @ matrix.T
        union = sizes[:, None] + sizes[None, :] - shared
        counted = shared >= min_shared
        shared_total += np.where(counted, shared, 0)
        union_total += np.where(counted, union, 0)
        per_question[q] = np.where(counted, shared / np.maximum(union, 1), 0.0)
        kept[q] = {h: who for h, who in rare.items() if len(who) >= 2}
    score = np.divide(shared_total, union_total, out=np.zeros_like(shared_total),
                      where=union_total > 0)
    upper = np.triu_indices(n, k=1)
    order = np.argsort(-score[upper], kind="stable")[:top]
    pairs = []
    for k in order:
        i, j = int(upper[0][k]), int(upper[1][k])
        if score[i, j] <= 0:
            break
        a, b = students[i], students[j]
        per = {q: round(float(m[i, j]), 3) for q, m in per_question.items() if m[i, j] > 0}
        lines = {q: _lines(codes[a][q], codes[b][q], kept[q], a, b) for q in per}
        pairs.append(Pair(a, b, round(float(score[i, j]), 3), per, lines))
    return pairs


def _lines(code_a: Code, code_b: Code, kept: dict[int, list[str]], a: str,
           b: str) -> tuple[frozenset[int], frozenset[int]]:
    """The lines of each side that hold a fingerprint the two share (for highlighting)."""
    common = [h for h in code_a.prints.keys() & code_b.prints.keys()
              if a in kept.get(h, ()) and b in kept.get(h, ())]
    return (frozenset().union(*(code_a.prints[h] for h in common)),
            frozenset().union(*(code_b.prints[h] for h in common)))
