"""PyTorch in the sandbox, through the graders' handle: a warmed one-thread torch zygote,
tensors both ways, ``call_backward`` and ``run_module``, and the lean zygote left alone.

One torch sandbox serves every test here (``worker_for`` keeps it warm per process)."""

from __future__ import annotations

import pytest

from autograder.errors import MissingName, StudentException
from autograder.grading.manifest import PRELOAD_LIMITS
from autograder.grading.session import StudentSession
from autograder.intake.notebook import Cell
from autograder.sandbox.launch import Limits
from autograder.sandbox.worker_handle import WorkerGone
from autograder.toolkit.tensors import ModuleData, ModuleRun

torch = pytest.importorskip("torch")

LIMITS = Limits(call_seconds=30, cell_seconds=60, **PRELOAD_LIMITS["torch"])
NOTEBOOK = '''
import torch, torch.nn as nn, torch.nn.functional as F

def conv(x, w, b, stride=1, pad=0):
    return F.conv2d(x, w, b, stride=stride, padding=pad)

def echo(*args):
    return args

def not_a_tensor(x):
    return 3

def worker_facts():
    return torch.get_num_threads(), torch.get_num_interop_threads(), torch.rand(4)

class Net(nn.Module):
    def __init__(self, hidden=4):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 2, 3, padding=1)
        self.fc = nn.Linear(2 * 4 * 4, hidden)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        return self.drop(self.fc(F.relu(self.conv1(x)).flatten(1)))

class NotAModule:
    pass
'''


@pytest.fixture
def student():
    with StudentSession((Cell(0, NOTEBOOK),), [], LIMITS, preload=("torch",)) as session:
        assert [o.status for o in session.start()] == ["ok"]
        yield session


def test_tensors_cross_both_ways(student):
    """Nested tensors go in and come back as fresh torch.Tensors, requires_grad kept."""
    x = torch.randn(2, 3, requires_grad=True)
    state = {"w": torch.arange(6).reshape(2, 3), "flag": torch.tensor([True, False])}
    back = student.call("echo", x, [state, (torch.zeros(0),)])
    assert type(back) is tuple and type(back[0]) is torch.Tensor and back[0].requires_grad
    assert torch.equal(back[0].detach(), x.detach())
    assert torch.equal(back[1][0]["w"], state["w"]) and back[1][0]["flag"].dtype == torch.bool
    assert back[1][1][0].shape == (0,)


def test_call_backward_gives_the_output_and_each_arguments_gradient(student):
    x = torch.randn(2, 3, 5, 5, requires_grad=True)
    w = torch.randn(4, 3, 3, 3, requires_grad=True)
    b = torch.randn(4, requires_grad=True)
    upstream = torch.randn(2, 4, 3, 3)
    out, grads = student.call_backward("conv", x, w, b, 2, 1, upstream=upstream)
    expected = torch.nn.functional.conv2d(x, w, b, stride=2, padding=1)
    expected.backward(upstream)
    assert torch.allclose(out, expected.detach(), atol=1e-5) and not out.requires_grad
    assert len(grads) == 5 and grads[3] is None and grads[4] is None
    for got, leaf in zip(grads[:3], (x, w, b), strict=True):
        assert torch.allclose(got, leaf.grad, atol=1e-4)


def test_call_backward_problems_are_the_students(student):
    with pytest.raises(StudentException, match="TypeError.*not_a_tensor returned int, not a tensor"):
        student.call_backward("not_a_tensor", torch.ones(2), upstream=torch.ones(2))
    with pytest.raises(StudentException, match="RuntimeError"):  # no input requires grad
        student.call_backward("conv", torch.ones(1, 1, 3, 3), torch.ones(1, 1, 3, 3),
                              torch.ones(1), upstream=torch.ones(1, 1, 1, 1))
    with pytest.raises(MissingName):
        student.call_backward("nowhere", torch.ones(2), upstream=torch.ones(2))


def test_run_module_builds_sets_the_mode_and_runs_without_grad(student):
    x = torch.rand(6, 1, 4, 4)
    run = student.run_module("Net", (5,), (x,))
    assert type(run) is ModuleRun and type(run.module) is ModuleData
    assert run.module.class_name == "Net" and run.module.training is False
    assert run.module.parameters == {"conv1.weight": (2, 1, 3, 3), "conv1.bias": (2,),
                                     "fc.weight": (5, 32), "fc.bias": (5,)}
    assert run.module.children == [("conv1", "Conv2d"), ("fc", "Linear"), ("drop", "Dropout")]
    assert run.output.shape == (6, 5) and not run.output.requires_grad
    # the trusted side recomputes: the returned weights in its own model give the same logits
    net = torch.nn.Module()
    net.conv1, net.fc = torch.nn.Conv2d(1, 2, 3, padding=1), torch.nn.Linear(32, 5)
    net.load_state_dict(run.module.state_dict, strict=True)
    with torch.no_grad():
        mine = net.fc(torch.relu(net.conv1(x)).flatten(1))
    assert torch.allclose(mine, run.output, atol=1e-5)
    assert student.run_module("Net", inputs=(x,), mode="train").module.training is True


def test_run_module_refuses_what_is_not_a_module(student):
    with pytest.raises(StudentException, match="NotAModule is not a subclass of torch.nn.Module"):
        student.run_module("NotAModule", inputs=(torch.ones(1),))
    with pytest.raises(ValueError, match="mode"):
        student.run_module("Net", inputs=(torch.ones(1),), mode="test")


def test_each_worker_has_one_thread_and_fresh_torch_randomness():
    draws = []
    for _ in range(2):  # one sandbox serves one worker at a time
        with StudentSession((Cell(0, NOTEBOOK),), [], LIMITS, preload=("torch",)) as session:
            session.start()
            threads, interop, draw = session.call("worker_facts")
            assert (threads, interop) == (1, 1)
            draws.append(draw)
    assert not torch.equal(*draws)


def test_the_lean_zygote_does_not_load_torch():
    probe = "import sys\nloaded = 'torch' in sys.modules\n"
    with StudentSession((Cell(0, probe),), []) as session:
        session.start()
        assert session.get("loaded") is False


def test_a_preload_that_fails_is_reported_not_swallowed():
    session = StudentSession((Cell(0, "x = 1"),), [], Limits(), preload=("no_such_module_zz",))
    with pytest.raises(WorkerGone, match="preloading failed: no_such_module_zz could not be "
                                         "imported: ModuleNotFoundError"):
        session.start()
    session.close()
