"""HW3 content: generated files in sync with the master, the notebooks run top to bottom in a
real kernel (nbclient), the reference agrees with PyTorch and with numerical gradients, is fast
where the spec says, and trains to the spec's accuracy."""

from __future__ import annotations

import re
import time

import nbformat
import numpy as np
import pytest
from hw1_helpers import REPO, code_cells, errors, load_module, text_of

torch = pytest.importorskip("torch")

HW3 = "hw3"
HOME = REPO / "solutions" / HW3
STUDENT_NB = REPO / "assignments" / HW3 / "hw3.ipynb"
DIGITS = REPO / "assignments" / HW3 / "digits.npz"
SPEC = {"conv_forward": 15, "conv_backward": 15, "max_pool": 10, "conv_fast": 5, "adam": 10,
        "torch_conv": 10, "cnn": 10, "train": 25}
CHECK_RE = re.compile(r'grader\.check\("(\w+)"\)')


@pytest.fixture(scope="module")
def built(build_module, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("hw3-build")
    return build_module.build(HW3, REPO, keep=workdir), workdir


@pytest.fixture(scope="module")
def reference():
    return load_module("content_tests_hw3_reference", HOME / "reference.py")


def rel_error(a, b):
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def test_generated_files_match_the_master(built):
    outputs, _ = built
    for path in (STUDENT_NB, HOME / "reference.py"):
        assert path.read_text(encoding="utf-8") == outputs[path], f"run python solutions/build.py {HW3}"


def test_manifest_has_the_spec_points(build_module):
    manifest = build_module.read_manifest(build_module.Paths(HW3, REPO))
    assert dict(manifest.questions) == SPEC and sum(SPEC.values()) == 100


def test_the_digits_are_hw2s():
    assert DIGITS.read_bytes() == (REPO / "assignments" / "hw2" / "digits.npz").read_bytes()


# --------------------------------------------------------------------------- notebooks


def check_cells(nb) -> dict:
    return {m.group(1): c for c in code_cells(nb) for m in [CHECK_RE.fullmatch(c.source.strip())]
            if m}


def images(nb) -> int:
    return sum(1 for c in code_cells(nb) for o in c.outputs
               if o.output_type == "display_data" and "image/png" in o.get("data", {}))


@pytest.fixture(scope="module")
def one_thread():
    """Kernels started meanwhile run torch on one thread, as the grader does: on a loaded
    machine torch's default thread pool makes the notebook's training cell 25x slower."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OMP_NUM_THREADS", "1")
        yield


@pytest.fixture(scope="module")
def solved(built, execute_notebook, one_thread):
    _, workdir = built
    return execute_notebook(workdir / "dist" / "autograder" / f"{HW3}.ipynb", files=[DIGITS])


@pytest.fixture(scope="module")
def skeleton(execute_notebook, one_thread):
    return execute_notebook(STUDENT_NB, files=[DIGITS])


def test_solved_notebook_runs_and_passes_every_public_check(solved):
    nb = solved
    failing = [(c.source[:60], text_of(c)[-300:]) for c in code_cells(nb) if errors(c)]
    assert not failing
    checks = check_cells(nb)
    assert set(checks) == set(SPEC)
    for qid, cell in checks.items():
        assert "All test cases passed!" in text_of(cell), (qid, text_of(cell))


def test_solved_notebook_shows_what_the_spec_asks(solved):
    """The sliding filter, feature maps, Adam's path, the loss, the learned filters; accuracy."""
    nb = solved
    outputs = "".join(text_of(c) for c in code_cells(nb))
    accuracy = re.search(r"held-out accuracy: (\d+\.\d)% on 200 digits", outputs)
    assert accuracy and float(accuracy.group(1)) >= 85
    assert "(budget 0.25 s)" in outputs and "NumPy float64 vs PyTorch float32" in outputs
    assert images(nb) == 5


def test_skeleton_runs_with_only_not_implemented_failures(skeleton):
    bad = [(c.source[:60], e.ename) for c in code_cells(skeleton) for e in errors(c)
           if e.ename != "NotImplementedError"]
    assert not bad
    outputs = "".join(text_of(c) for c in code_cells(skeleton))
    assert "SmallCNN is not implemented yet" in outputs
    for qid, cell in check_cells(skeleton).items():
        assert "NotImplementedError" in text_of(cell), qid


def test_the_notebook_states_the_budgets_the_graders_use():
    text = "".join(c.source for c in nbformat.read(STUDENT_NB, as_version=4).cells)
    manifest = (HOME / "assignment.toml").read_text()
    assert re.search(r"within\s+\*\*0\.25 s\*\*", text) and "fast = 0.25" in manifest
    assert re.search(r"within\s+\*\*30 s\*\*", text) and "train = 30.0" in manifest
    assert "download=True" in text and "num_workers > 0" in text and "torch.compile" in text


# --------------------------------------------------------------------------- reference


CASES = [((2, 3, 7, 7), (4, 3, 3, 3), 1, 0), ((1, 2, 8, 6), (3, 2, 2, 2), 2, 0),
         ((3, 2, 5, 5), (2, 2, 3, 3), 2, 1), ((2, 3, 6, 4), (5, 3, 3, 3), 1, 2)]
CASE_IDS = ["s1p0", "s2p0-rect", "s2p1", "s1p2"]


@pytest.mark.parametrize("x_shape, w_shape, stride, pad", CASES, ids=CASE_IDS)
def test_reference_convolution_agrees_with_torch(reference, x_shape, w_shape, stride, pad):
    rng = np.random.default_rng(sum(x_shape) + stride + pad)
    x, w, b = rng.normal(size=x_shape), rng.normal(size=w_shape), rng.normal(size=w_shape[0])
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    out_t = torch.nn.functional.conv2d(xt, wt, bt, stride=stride, padding=pad)
    out = reference.conv_forward(x, w, b, stride, pad)
    assert rel_error(out, out_t.detach().numpy()) < 1e-12
    assert rel_error(reference.conv_forward_fast(x, w, b, stride, pad), out) < 1e-12
    dout = rng.normal(size=out.shape)
    (out_t * torch.tensor(dout)).sum().backward()
    for mine, theirs in zip(reference.conv_backward(dout, x, w, b, stride, pad),
                            (xt.grad, wt.grad, bt.grad), strict=True):
        assert rel_error(mine, theirs.numpy()) < 1e-12


def test_reference_max_pool_agrees_with_torch_and_takes_the_first_tie(reference):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(2, 3, 6, 8))
    xt = torch.tensor(x, requires_grad=True)
    out_t = torch.nn.functional.max_pool2d(xt, 2, 2)
    dout = rng.normal(size=out_t.shape)
    (out_t * torch.tensor(dout)).sum().backward()
    assert np.array_equal(reference.max_pool_forward(x), out_t.detach().numpy())
    assert np.array_equal(reference.max_pool_backward(dout, x), xt.grad.numpy())
    tie = np.array([[[[0.0, 2.0, 1.0], [2.0, 2.0, 0.0], [1.0, 0.0, 2.0]]]])
    dx = reference.max_pool_backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), tie, size=2, stride=1)
    assert np.array_equal(dx, [[[[0.0, 3.0, 0.0], [3.0, 4.0, 0.0], [0.0, 0.0, 0.0]]]])


def test_reference_adam_agrees_with_torch(reference):
    rng = np.random.default_rng(6)
    w = rng.normal(size=(3, 4))
    param = torch.tensor(w, requires_grad=True)
    optimizer = torch.optim.Adam([param], lr=0.01, betas=(0.8, 0.99), eps=1e-8)
    state = None
    for _ in range(5):
        dw = rng.normal(size=w.shape)
        param.grad = torch.tensor(dw)
        optimizer.step()
        w, state = reference.adam_step(w, dw, state, lr=0.01, beta1=0.8, beta2=0.99)
    assert state["t"] == 5 and rel_error(w, param.detach().numpy()) < 1e-12


def test_reference_small_cnn_has_the_spec_parameters(reference):
    model = reference.SmallCNN()
    assert sum(p.numel() for p in model.parameters()) == 9098
    assert list(model.state_dict()) == ["conv1.weight", "conv1.bias", "conv2.weight",
                                        "conv2.bias", "fc.weight", "fc.bias"]


@pytest.fixture
def one_torch_thread():
    """torch on one thread, as in the sandbox (CPU time of a spinning pool is not the work)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("seed", [0, 1])
def test_reference_trains_to_85_percent_within_the_stated_limit(reference, seed,
                                                                 one_torch_thread):
    """The grader's setting: all 1,597 training digits, epochs=3, 30 s stated, one thread."""
    with np.load(DIGITS) as data:
        X = torch.tensor(data["train_images"].reshape(-1, 1, 28, 28) / 255.0, dtype=torch.float32)
        y = torch.tensor(data["train_labels"], dtype=torch.int64)
        X_test = torch.tensor(data["test_images"].reshape(-1, 1, 28, 28) / 255.0,
                              dtype=torch.float32)
        y_test = torch.tensor(data["test_labels"], dtype=torch.int64)
    started = time.process_time()
    state = reference.train(X, y, 1000 + seed)
    assert time.process_time() - started < 30
    model = reference.SmallCNN()
    model.load_state_dict(state)
    model.eval()
    with torch.no_grad():
        accuracy = (model(X_test).argmax(1) == y_test).float().mean().item()
    assert accuracy >= 0.85
