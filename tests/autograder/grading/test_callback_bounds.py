"""Callback amplification (issue 22 item 3): the trusted side evaluates a grader's function
only on arguments shaped like the call's own, so what a student sends cannot make the
trusted process allocate more than the grader's own ``f(w)`` does.

The attack: inside ``numerical_gradient``, call the grader's quadratic with
``np.ones((N, 1, 1), bool)``: small on the wire, broadcast against the (3, 4)
curvature it becomes N x 3 x 4 float64 temporaries *in the grading process*
(the issue measured 1.56 GB RSS at N = 8,000,000). Real sandboxed worker here.
"""

from __future__ import annotations

import resource
from typing import Any

import numpy as np
import pytest

from autograder.errors import StudentException
from autograder.grading.session import StudentSession
from autograder.intake.notebook import Cell
from autograder.sandbox.launch import Limits

N = 2_000_000  # 2e6 x 12 float64 = 192 MB per temporary in the trusted process, unbounded
NOTEBOOK = f'''
import numpy as np

def bomb(f, w):
    return f(np.ones(({N}, 1, 1), bool))

def bomb_list(f, w):
    return f([[[1.0]]] * {N // 4})

def reshaped(f, w):
    return f(w.reshape(-1, 1))

def many(f, w):
    return f(*([w] * 17))

def text(f, w):
    return f("x" * 100_000)

def huge_int(f, w):
    return f(10 ** 100)

def mapping(f, w):
    return f({{"a": w}})

def honest(f, w):
    return f(w + 1.0), f(w.tolist()), f(np.float32(2.0)), f(3), f(w.astype(np.float32))

def layer(x, w1):
    return act(w1 @ np.append(x, 1.0))  # `act` is bound by call_given: the reference

def layer_bomb(x, w1):
    return act(np.ones(({N}, 1), bool))

def layer_square(x, w1):
    return act(np.ones((1, 600)) + np.ones((600, 1)))  # each dimension longer than the call's
'''


@pytest.fixture(scope="module")
def student():
    session = StudentSession((Cell(0, NOTEBOOK),), [], Limits(call_seconds=30))
    assert [o.status for o in session.start()] == ["ok"]
    yield session
    session.close()


def quadratic(shape: tuple[int, ...]) -> tuple[Any, np.ndarray]:
    rng = np.random.default_rng(0)
    a, c = rng.uniform(5, 20, shape), rng.normal(size=shape)

    def f(v: Any) -> float:
        return float(0.5 * np.sum(a * (np.asarray(v, dtype=np.float64) - c) ** 2))

    return f, rng.normal(size=shape)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.parametrize("attack", ["bomb", "bomb_list"])
def test_a_broadcasting_argument_is_refused_before_the_function_runs(student, attack):
    f, w = quadratic((3, 4))
    before = peak_rss_mb()
    with pytest.raises(StudentException, match="CallbackError") as caught:
        student.call(attack, f, w)
    assert "shaped like the call's own arguments" in str(caught.value)
    assert "(3, 4)" in str(caught.value)
    assert peak_rss_mb() - before < 100, (before, peak_rss_mb())


@pytest.mark.parametrize("attack", ["reshaped", "many", "text", "huge_int", "mapping"])
def test_other_shapes_and_kinds_are_refused_with_a_reason(student, attack):
    f, w = quadratic((12,))
    with pytest.raises(StudentException, match="CallbackError") as caught:
        student.call(attack, f, w)
    assert "the function" in str(caught.value)


def test_honest_arguments_are_evaluated(student):
    f, w = quadratic((3, 4))
    values = student.call("honest", f, w)
    assert values[0] == pytest.approx(f(w + 1.0)) and values[1] == pytest.approx(f(w))
    assert values[2] == pytest.approx(f(2.0)) and values[3] == pytest.approx(f(3))


def tanh(v: Any) -> Any:
    return np.tanh(v)


def test_a_dependency_takes_the_call_s_intermediate_shapes(student):
    """``call_given``'s reference function is called on the student's own intermediate
    values (here (5,), not a shape of the call): evaluated, as long as it fits the call."""
    rng = np.random.default_rng(1)
    x, w1 = rng.normal(size=4), rng.normal(size=(5, 5))
    value, _ = student.call_given("layer", x, w1, given={"act": tanh})
    assert np.allclose(value, np.tanh(w1 @ np.append(x, 1.0)))


@pytest.mark.parametrize("attack", ["layer_bomb", "layer_square"])
def test_a_dependency_refuses_arrays_beyond_the_call_s_size(student, attack):
    rng = np.random.default_rng(1)
    before = peak_rss_mb()
    with pytest.raises(StudentException, match="CallbackError") as caught:
        student.call_given(attack, rng.normal(size=4), rng.normal(size=(5, 5)),
                           given={"act": tanh})
    assert "at most 2 dimensions of at most 6 entries" in str(caught.value)
    assert peak_rss_mb() - before < 100, (before, peak_rss_mb())
