"""HW2 content: generated files in sync with the master, the notebooks run top to bottom in a
real kernel (nbclient), the reference is right against numerical gradients, and it trains."""

from __future__ import annotations

import re
import time

import nbformat
import numpy as np
import pytest
from hw1_helpers import REPO, code_cells, errors, load_module, text_of

HW2 = "hw2"
HOME = REPO / "solutions" / HW2
MASTER = HOME / "hw2-master.ipynb"
STUDENT_NB = REPO / "assignments" / HW2 / "hw2.ipynb"
DIGITS = REPO / "assignments" / HW2 / "digits.npz"
SPEC = {"sigmoid_grad": 5, "forward": 10, "loss": 10, "backward": 30, "numerical_gradient": 15,
        "sgd": 10, "train": 20}
CHECK_RE = re.compile(r'grader\.check\("(\w+)"\)')


@pytest.fixture(scope="module")
def built(build_module, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("hw2-build")
    return build_module.build(HW2, REPO, keep=workdir), workdir


@pytest.fixture(scope="module")
def reference():
    return load_module("content_tests_hw2_reference", HOME / "reference.py")


def rel_error(a, b):
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def test_generated_files_match_the_master(built):
    outputs, _ = built
    for path in (STUDENT_NB, HOME / "reference.py"):
        assert path.read_text(encoding="utf-8") == outputs[path], f"run python solutions/build.py {HW2}"


def test_manifest_has_the_spec_points(build_module):
    manifest = build_module.read_manifest(build_module.Paths(HW2, REPO))
    assert dict(manifest.questions) == SPEC and sum(SPEC.values()) == 100


# --------------------------------------------------------------------------- notebooks


def check_cells(nb) -> dict:
    return {m.group(1): c for c in code_cells(nb) for m in [CHECK_RE.fullmatch(c.source.strip())]
            if m}


def images(nb) -> int:
    return sum(1 for c in code_cells(nb) for o in c.outputs
               if o.output_type == "display_data" and "image/png" in o.get("data", {}))


@pytest.fixture(scope="module")
def solved(built, execute_notebook):
    _, workdir = built
    return execute_notebook(workdir / "dist" / "autograder" / f"{HW2}.ipynb", files=[DIGITS])


@pytest.fixture(scope="module")
def skeleton(execute_notebook):
    return execute_notebook(STUDENT_NB, files=[DIGITS])


def test_solved_notebook_runs_and_passes_every_public_check(solved):
    failing = [(c.source[:60], text_of(c)[-300:]) for c in code_cells(solved) if errors(c)]
    assert not failing
    checks = check_cells(solved)
    assert set(checks) == set(SPEC)
    for qid, cell in checks.items():
        assert "All test cases passed!" in text_of(cell), (qid, text_of(cell))


def test_solved_notebook_plots_the_loss_and_the_mistakes(solved):
    outputs = "".join(text_of(c) for c in code_cells(solved))
    accuracy = re.search(r"held-out accuracy: (\d+\.\d)% on 200 digits", outputs)
    assert accuracy and float(accuracy.group(1)) >= 85
    assert re.search(r"relative error dw1: (\S+)", outputs)
    assert images(solved) == 2  # the loss per epoch and the misclassified digits


def test_skeleton_runs_with_only_not_implemented_failures(skeleton):
    bad = [(c.source[:60], e.ename) for c in code_cells(skeleton) for e in errors(c)
           if e.ename != "NotImplementedError"]
    assert not bad
    outputs = "".join(text_of(c) for c in code_cells(skeleton))
    assert "not implemented yet" in outputs and "finish forward" in outputs
    for qid, cell in check_cells(skeleton).items():
        assert "NotImplementedError" in text_of(cell), qid


# --------------------------------------------------------------------------- reference


def network(rng, sizes, m, scale=1.0):
    n_in, n_hidden, n_out = sizes
    return (rng.random((n_in, m)), np.eye(n_out)[:, rng.integers(0, n_out, m)],
            rng.normal(0, scale / np.sqrt(n_in + 1), (n_hidden, n_in + 1)),
            rng.normal(0, scale, (n_out, n_hidden + 1)))


@pytest.mark.parametrize("sizes, scale", [((1, 1, 1), 1.0), ((3, 4, 2), 1.0), ((5, 3, 4), 1.0),
                                          ((4, 3, 2), 6.0)], ids=["1-1-1", "3-4-2", "5-3-4",
                                                                    "saturated"])
def test_reference_backward_agrees_with_numerical_gradients(reference, sizes, scale):
    rng = np.random.default_rng(sum(sizes))
    X, Y, w1, w2 = network(rng, sizes, 6, scale)
    dw1, dw2 = reference.backward(X, Y, w1, w2)
    num1 = reference.numerical_gradient(
        lambda v: reference.cross_entropy_loss(reference.forward(X, v, w2)["a3"], Y), w1.copy())
    num2 = reference.numerical_gradient(
        lambda v: reference.cross_entropy_loss(reference.forward(X, w1, v)["a3"], Y), w2.copy())
    assert rel_error(dw1, num1) < 1e-6 and rel_error(dw2, num2) < 1e-6


def test_reference_numerical_gradient_leaves_w_alone(reference):
    w = np.random.default_rng(1).normal(size=(3, 4))
    before = w.copy()
    reference.numerical_gradient(lambda v: float(np.sum(np.sin(v))), w)
    assert np.array_equal(w, before)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_reference_trains_to_85_percent_within_the_stated_limit(reference, seed):
    """The grader's setting: 1000 training digits, every other digit held out, 60 s stated."""
    with np.load(DIGITS) as data:
        images_ = np.concatenate([data["train_images"], data["test_images"]]) / 255.0
        labels = np.concatenate([data["train_labels"], data["test_labels"]]).astype(int)
    order = np.random.default_rng(100 + seed).permutation(len(labels))
    train, held = order[:1000], order[1000:]
    started = time.process_time()
    w1, w2 = reference.train(images_[train].T, np.eye(10)[:, labels[train]], 15, 0.5, 20, 10, seed)
    assert time.process_time() - started < 60
    predicted = np.argmax(reference.forward(images_[held].T, w1, w2)["a3"], axis=0)
    assert np.mean(predicted == labels[held]) >= 0.85


def test_the_notebook_states_the_training_setting_the_graders_use():
    text = "".join(c.source for c in nbformat.read(STUDENT_NB, as_version=4).cells)
    graders = (HOME / "graders.py").read_text()
    assert "n_hidden=15, lr=0.5, epochs=20, batch_size=10" in text
    assert '{"n_hidden": 15, "lr": 0.5, "epochs": 20, "batch_size": 10}' in graders
    assert "60 seconds per training run" in text and "train = 60.0" in \
        (HOME / "assignment.toml").read_text()
