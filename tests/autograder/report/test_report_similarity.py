"""Similarity: renaming and layout change nothing, the skeleton and class-wide code count for
nothing, questions are found through otter's structure, and broken notebooks are skipped."""

from __future__ import annotations

import json

import nbformat
from report_site import COPIED, OWN, QUESTIONS, RENAMED, SKELETON, notebook

from autograder.report.similarity import (
    Skeleton,
    cells_of,
    fingerprint,
    similar_pairs,
    student_code,
)

SKELETON_CODE = Skeleton.from_notebook(SKELETON, QUESTIONS)


def codes_of(answers: dict[str, str], tmp_path) -> dict:
    codes = {}
    for student, answer in answers.items():
        path = tmp_path / f"{student}.ipynb"
        nbformat.write(notebook(answer), path)
        codes[student] = student_code(SKELETON_CODE, cells_of(path))
    return codes


def test_renaming_and_reformatting_keep_the_fingerprints():
    a, b = COPIED.format(hostile="x"), RENAMED.format(hostile="y")
    assert fingerprint(a).keys() == fingerprint(b).keys()
    assert fingerprint(a).keys() != fingerprint(OWN).keys()


def test_the_skeleton_maps_questions_to_the_names_its_answer_cells_define():
    assert SKELETON_CODE.names["neural_network"] == {"neural_network", "predict"}
    assert SKELETON_CODE.names["perceptron"] == {"perceptron", "AND_WEIGHTS", "OR_WEIGHTS", "xor"}
    assert set(SKELETON_CODE.names) == set(QUESTIONS)


def test_copied_pair_is_found_and_an_untouched_skeleton_is_like_nobody(tmp_path):
    codes = codes_of({"a": COPIED, "b": RENAMED, "c": OWN, "d": "{hostile}",
                      "e": 'def neural_network(x, w1, w2):\n    """..."""\n    # YOUR CODE HERE\n'
                           "    raise NotImplementedError\n"}, tmp_path)
    pairs = similar_pairs(codes, SKELETON_CODE)
    assert [(p.a, p.b) for p in pairs] == [("a", "b")]
    assert pairs[0].score == 1.0 and list(pairs[0].questions) == ["neural_network"]
    lines_a, lines_b = pairs[0].shared_lines["neural_network"]
    assert {1, 3, 9} <= lines_a and {1, 3, 9} <= lines_b


def test_code_most_of_the_class_shares_is_not_evidence(tmp_path):
    """Ten students with the same answer: nobody is flagged (the one obvious way to write it)."""
    codes = codes_of({f"s{i}": COPIED for i in range(10)} | {"own": OWN}, tmp_path)
    assert similar_pairs(codes, SKELETON_CODE) == []
    assert similar_pairs(codes, SKELETON_CODE, common_share=1.0)[0].score == 1.0


def test_cells_moved_or_merged_still_count_for_their_question(tmp_path):
    """A student who moves the answer to the end of the notebook (or removes the checks)."""
    nb = notebook(COPIED)
    answer = next(c for c in nb.cells if c.source.startswith("def neural_network("))
    nb.cells.remove(answer)
    nb.cells = [c for c in nb.cells if "grader.check" not in c.source] + [answer]
    path = tmp_path / "moved.ipynb"
    nbformat.write(nb, path)
    moved = student_code(SKELETON_CODE, cells_of(path))
    codes = codes_of({"a": COPIED, "c": OWN}, tmp_path) | {"moved": moved}
    pairs = similar_pairs(codes, SKELETON_CODE)
    assert [(p.a, p.b) for p in pairs] == [("a", "moved")] and pairs[0].score > 0.9


def test_unreadable_notebooks_and_unparsable_code_are_skipped_quietly(tmp_path):
    for name, content in {"trunc": '{"cells": [', "list": "[1, 2]", "deep": "[" * 100000,
                          "cells": json.dumps({"cells": [{"cell_type": "code", "source": 7},
                                                         "x", None]})}.items():
        path = tmp_path / f"{name}.ipynb"
        path.write_text(content)
        assert cells_of(path) == []
    bad = "def neural_network(x, w1, w2):\n    return (x +\n"  # an unclosed bracket
    assert isinstance(fingerprint(bad), dict)
    assert fingerprint("%timeit f()\n!pip install torch\nx = 1\n") == fingerprint("x = 1\n")


def test_the_sparse_index_scores_every_pair_as_the_definition_says():
    """Index.pairs against the rule computed pair by pair (sets, no matrices), on a class of
    random fingerprints with copied pairs, class-wide code and code over the holder cap."""
    import random
    from collections import Counter

    from autograder.report.similarity import Index

    rng = random.Random(5)
    questions = ["q1", "q2", "q3"]
    common = {q: list(range(1000 * k, 1000 * k + 8)) for k, q in enumerate(questions, 1)}
    near_cap = {q: list(range(2000 * k, 2000 * k + 30)) for k, q in enumerate(questions, 1)}
    prints = {}
    for s in range(60):  # ~30 holders of each common hash, ~10 of each near the cap
        prints[f"s{s:02d}"] = {q: {rng.randrange(10**6) for _ in range(rng.randrange(0, 30))}
                               | set(rng.sample(common[q], 4))
                               | {h for h in near_cap[q] if rng.random() < 0.17}
                               for q in questions}
    for a, b in (("s03", "s40"), ("s07", "s08"), ("s11", "s59")):  # copies, partly edited
        prints[b] = {q: set(list(h)[: len(h) - 2]) | {rng.randrange(10**6)}
                     for q, h in prints[a].items()}
    skeleton = Skeleton({}, {"q1": set(common["q1"][:2])})
    kwargs = {"common_share": 0.2, "min_common": 4, "min_shared": 6, "top": 1000,
              "max_holders": 9}
    index = Index(skeleton)
    for student, mine in prints.items():
        index.add(student, mine)
    got = {(p.a, p.b): (p.score, p.questions) for p in index.pairs(**kwargs)}

    limit = max(4, min(0.2 * len(prints), 9))
    rares = {}
    for q in questions:
        holders = Counter(h for s in prints for h in prints[s][q])
        rares[q] = {h for h, n in holders.items()
                    if n <= limit and h not in skeleton.prints.get(q, ())}
    expected = {}
    for a in sorted(prints):
        for b in sorted(prints):
            if a >= b:
                continue
            shared_total = union_total = 0
            per = {}
            for q in questions:
                rare = rares[q]
                mine, theirs = prints[a][q] & rare, prints[b][q] & rare
                shared, union = len(mine & theirs), len(mine | theirs)
                if shared >= 6:
                    shared_total, union_total = shared_total + shared, union_total + union
                    per[q] = round(shared / union, 3)
            if shared_total:
                expected[(a, b)] = (round(shared_total / union_total, 3), per)
    assert got == expected
    assert {("s03", "s40"), ("s07", "s08"), ("s11", "s59")} <= set(got)
