"""The committed student notebook: skeletons only, public checks only, spec ids and points."""

from __future__ import annotations

import ast
import re
import warnings

import numpy as np
import pytest
from hw1_helpers import (
    CONSTANTS,
    FUNCTIONS,
    HW1,
    QUESTIONS,
    REPO,
    STUDENT_NB,
    code_cells,
    is_otter_cell,
    load_module,
)

ASSIGNMENT_DIR = REPO / "assignments" / HW1
ALLOWED_FILES = {"hw1.ipynb", "digits.npz"}


def solution_only_lines(master_nb) -> set[str]:
    """Lines Otter removes from the student version: solution blocks and `# SOLUTION` lines."""
    found = set()
    in_solution_cells = False
    for cell in master_nb.cells:
        first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
        if cell.cell_type == "raw":
            if re.match(r"#\s+begin\s+solution", first, re.IGNORECASE):
                in_solution_cells = True
            elif re.match(r"#\s+end\s+solution", first, re.IGNORECASE):
                in_solution_cells = False
            continue
        if not (in_solution_cells and cell.cell_type == "code"):
            continue
        inside = False
        for line in cell.source.splitlines():
            s = line.strip()
            if re.fullmatch(r"# BEGIN SOLUTION( NO PROMPT)?", s):
                inside = True
            elif s == "# END SOLUTION":
                inside = False
            elif inside and s:
                found.add(s)
            elif re.search(r"#\s?SOLUTION( NO PROMPT)?$", s):
                found.add(re.sub(r"\s*#\s?SOLUTION( NO PROMPT)?$", "", s))
    return found


def student_lines(nb) -> set[str]:
    lines = set()
    for cell in nb.cells:
        lines.update(ln.strip() for ln in cell.source.splitlines())
    for test in nb.metadata.get("otter", {}).get("tests", {}).values():
        lines.update(ln.strip() for ln in str(test).splitlines())
    return lines


def test_master_has_solution_lines_to_hide(master_nb):
    """Sanity check of the leak test below: the master does hold solution-only lines."""
    lines = solution_only_lines(master_nb)
    assert "return int(np.argmax(neural_network(x, w1, w2)))" in lines
    assert "AND_WEIGHTS = (-1.5, 1, 1)" in lines
    assert len(lines) >= 20


def test_no_solution_line_reaches_the_student_notebook(master_nb, student_nb):
    """No line that Otter should strip from the master appears in the student notebook."""
    leaked = solution_only_lines(master_nb) & student_lines(student_nb)
    assert not leaked, f"solution lines in {STUDENT_NB.name}: {sorted(leaked)}"


FORBIDDEN = [
    "BEGIN SOLUTION",
    "END SOLUTION",
    "BEGIN PROMPT",
    "# SOLUTION",
    "reference.py",
    "solutions/",
    "hw1-master",
    "autograder/graders",
    "hidden=True",
    '"hidden": true',
]


@pytest.mark.parametrize("needle", FORBIDDEN, ids=FORBIDDEN)
def test_assignment_files_do_not_mention_instructor_material(needle):
    """No file under assignments/hw1 carries Otter markers, hidden tests or instructor paths."""
    for path in ASSIGNMENT_DIR.rglob("*"):
        if path.is_file() and path.suffix != ".npz":
            assert needle not in path.read_text(encoding="utf-8"), f"{needle!r} in {path}"


def test_assignment_folder_holds_only_student_files():
    """assignments/hw1 holds the notebook and its data only (nothing the hidden graders need)."""
    names = {p.relative_to(ASSIGNMENT_DIR).as_posix() for p in ASSIGNMENT_DIR.rglob("*")}
    assert names == ALLOWED_FILES


def test_otter_cells_and_public_tests_match_the_spec(student_nb):
    """One otter init cell, a grader.check per question id in spec order, public tests only."""
    sources = [c.source.strip() for c in code_cells(student_nb)]
    assert sum("otter.Notebook(" in s for s in sources) == 1
    assert any(s.endswith('grader = otter.Notebook(tests_dir="tests")') for s in sources)
    checks = [
        m.group(1) for s in sources for m in [re.fullmatch(r'grader\.check\("(\w+)"\)', s)] if m
    ]
    assert checks == list(QUESTIONS)

    tests = student_nb.metadata["otter"]["tests"]
    assert set(tests) == set(QUESTIONS)
    for qid, points in QUESTIONS.items():
        text = tests[qid]
        assert re.search(rf"^name = \"{qid}\"$", text, re.MULTILINE)
        assert re.search(rf"^points = {points}$", text, re.MULTILINE), (
            f"{qid} should be worth {points}"
        )
        assert text.count("@test_case(") >= 2, f"{qid} should have a few public checks"
        assert text.count("hidden=False") == text.count("@test_case(")
    assert sum(QUESTIONS.values()) == 100


def skeleton_namespace(nb) -> dict:
    """Run the student notebook's own code (otter cells and the digits demo skipped)."""
    env: dict = {}
    for cell in code_cells(nb):
        if is_otter_cell(cell.source) or "digits" in cell.source or "matplotlib" in cell.source:
            continue
        exec(compile(cell.source, "<student notebook>", "exec"), env)  # noqa: S102 - our own notebook
    return env


def test_skeleton_functions_are_prompts(student_nb):
    """Each spec function in the student notebook is a docstring plus `raise NotImplementedError`."""
    defs = {}
    for cell in code_cells(student_nb):
        for node in ast.parse(cell.source).body:
            if isinstance(node, ast.FunctionDef):
                defs[node.name] = (node, cell.source)
    for name in FUNCTIONS:
        node, source = defs[name]
        body = [
            n
            for n in node.body
            if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))
        ]
        assert len(body) == 1 and isinstance(body[0], ast.Raise), f"{name} is not a bare skeleton"
        assert ast.unparse(body[0].exc) == "NotImplementedError"
        assert "# YOUR CODE HERE" in source


ARGS = {
    "perceptron": (1, 0, (0.0, 1.0, 1.0)),
    "xor": (1, 0),
    "sigmoid": (0.0,),
    "neural_network": (np.zeros((784, 1)), np.zeros((15, 785)), np.zeros((10, 16))),
    "predict": (np.zeros((784, 1)), np.zeros((15, 785)), np.zeros((10, 16))),
    "mean_squared_error": (np.zeros((10, 1)), np.zeros((10, 1))),
    "sigmoid_cross_entropy": (np.full((10, 1), 0.5), np.zeros((10, 1))),
    "softmax": (np.zeros((10, 1)),),
    "softmax_cross_entropy": (np.full((10, 1), 0.1), np.zeros((10, 1))),
}


@pytest.mark.parametrize("name", FUNCTIONS, ids=FUNCTIONS)
def test_every_skeleton_function_raises_not_implemented(student_nb, name):
    """Calling an untouched skeleton function raises NotImplementedError."""
    env = skeleton_namespace(student_nb)
    with pytest.raises(NotImplementedError):
        env[name](*ARGS[name])


@pytest.mark.parametrize("name", CONSTANTS, ids=CONSTANTS)
def test_skeleton_weights_are_placeholders(student_nb, name):
    """AND_WEIGHTS / OR_WEIGHTS are `...` placeholders in the student notebook."""
    assert skeleton_namespace(student_nb)[name] is Ellipsis


# ------------------------------------------------------------------ public checks vs. mutants


def run_public_checks(student_nb, qid: str, env: dict) -> bool:
    """Run the notebook's public otter tests of ``qid`` against ``env``; True if all pass."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from otter.test_files.exception_test import ExceptionTestFile

    test_file = ExceptionTestFile.from_metadata(
        student_nb.metadata["otter"]["tests"][qid], "hw1.ipynb"
    )
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        test_file.run(env)
    return test_file.passed_all


@pytest.fixture(scope="module")
def reference_env():
    from hw1_helpers import REFERENCE

    module = load_module("content_tests_hw1_reference_env", REFERENCE)
    return {k: v for k, v in vars(module).items() if not k.startswith("__")}


@pytest.mark.parametrize("qid", list(QUESTIONS), ids=list(QUESTIONS))
def test_public_checks_pass_on_the_reference(student_nb, reference_env, qid):
    """Every public check passes on the reference solution."""
    assert run_public_checks(student_nb, qid, dict(reference_env))


def _g(x):
    return 1 / (1 + np.exp(-x))


def _bias_first(x, w1, w2):
    a2 = _g(w1 @ np.vstack([[[1]], x]))
    return _g(w2 @ np.vstack([[[1]], a2]))


MUTANTS = {
    "perceptron-strict-threshold": (
        "perceptron",
        {"perceptron": lambda x1, x2, w: int(w[0] + w[1] * x1 + w[2] * x2 > 0)},
    ),
    "perceptron-and-weights-of-or": ("perceptron", {"AND_WEIGHTS": (-0.5, 1, 1)}),
    "perceptron-xor-is-or": ("perceptron", {"xor": lambda x1, x2: int(x1 or x2)}),
    "sigmoid-nan-for-large-x": ("sigmoid", {"sigmoid": lambda x: np.exp(x) / (1 + np.exp(x))}),
    "sigmoid-returns-list": ("sigmoid", {"sigmoid": lambda x: np.atleast_1d(_g(x)).tolist()}),
    "network-bias-first": ("neural_network", {"neural_network": _bias_first}),
    "network-flat-output": (
        "neural_network",
        {"neural_network": lambda x, w1, w2: _bias_first(x, w1, w2).ravel()},
    ),
    "predict-returns-max-value": (
        "neural_network",
        {"predict": lambda x, w1, w2: float(np.max(_bias_first(x, w1, w2)))},
    ),
    "mse-slide-value": ("mean_squared_error", {"mean_squared_error": lambda yh, y: 1.67}),
    "mse-is-a-mean": (
        "mean_squared_error",
        {"mean_squared_error": lambda yh, y: float(np.mean((yh - y) ** 2))},
    ),
    "sce-without-negative-class-term": (
        "sigmoid_cross_entropy",
        {"sigmoid_cross_entropy": lambda yh, y: float(np.sum(-y * np.log(yh)))},
    ),
    "softmax-without-max-shift": ("softmax", {"softmax": lambda z: np.exp(z) / np.sum(np.exp(z))}),
    "softmax-flat-output": (
        "softmax",
        {"softmax": lambda z: (np.exp(z - z.max()) / np.exp(z - z.max()).sum()).ravel()},
    ),
    "softmax-ce-with-sigmoid-terms": (
        "softmax_cross_entropy",
        {
            "softmax_cross_entropy": lambda yh, y: float(
                np.sum(-y * np.log(yh) - (1 - y) * np.log(1 - yh))
            )
        },
    ),
}


@pytest.mark.parametrize("qid, override", list(MUTANTS.values()), ids=list(MUTANTS))
def test_public_checks_catch_a_wrong_implementation(student_nb, reference_env, qid, override):
    """A typical mistake (as in the mutant) fails the question's public checks."""
    env = dict(reference_env)
    env.update(override)
    assert not run_public_checks(student_nb, qid, env)


def _network_with(g):
    def neural_network(x, w1, w2):
        a2 = g(w1 @ np.vstack([x, [[1]]]))
        return g(w2 @ np.vstack([a2, [[1]]]))
    return neural_network


def _network_check_messages(student_nb, env: dict) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from otter.test_files.exception_test import ExceptionTestFile

    test_file = ExceptionTestFile.from_metadata(
        student_nb.metadata["otter"]["tests"]["neural_network"], "hw1.ipynb")
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        test_file.run(env)
    return "\n".join(r.message or "" for r in test_file.test_case_results if not r.passed)


def test_the_network_check_blames_the_bias_only_for_a_bias_mistake(student_nb, reference_env):
    """A right forward pass calling a wrong-sign sigmoid is not told to move the bias (the
    hint it got before round 3); bias-first still is."""
    wrong_sign = _network_with(lambda t: 1 / (1 + np.exp(t)))
    said = _network_check_messages(student_nb, {**reference_env, "neural_network": wrong_sign})
    assert said and "LAST" not in said and "`sigmoid`" in said
    said = _network_check_messages(student_nb, {**reference_env, "neural_network": _bias_first})
    assert "append the bias 1 LAST" in said
