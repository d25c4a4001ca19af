"""Calls that take a trusted function, that show their arguments afterwards, and named budgets.

Real sandboxed workers: the function passed in never crosses the boundary
(only its arguments and results do), and a call stays in its time limit.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from autograder.errors import StudentException, StudentTimeout
from autograder.grading.session import StudentSession
from autograder.intake.notebook import Cell
from autograder.sandbox.launch import Limits

NOTEBOOK = '''
import numpy as np

def numerical_gradient(f, w, h=1e-5):
    grad = np.zeros_like(w)
    for i in np.ndindex(w.shape):
        old = w[i]
        w[i] = old + h
        plus = f(w)
        w[i] = old - h
        minus = f(w)
        w[i] = old
        grad[i] = (plus - minus) / (2 * h)
    return grad

def apply(f, *args):
    return f(*args)

def calls(f, n):
    for _ in range(n):
        f(1.0)
    return n

def scale_in_place(w, lr):
    w *= lr
    return w

def where_is_f(f):
    return repr(f), type(f).__name__, [a for a in dir(f) if not a.startswith("__")]

def slow():
    import time
    time.sleep(30)
'''


@pytest.fixture(scope="module")
def student():
    session = StudentSession((Cell(0, NOTEBOOK),), [], Limits(call_seconds=10),
                             budgets={"long": 12.0}, max_callbacks=50)
    outcomes = session.start()
    assert [o.status for o in outcomes] == ["ok"], outcomes
    yield session
    session.close()


def test_a_trusted_function_is_evaluated_on_the_trusted_side(student):
    secret = np.array([[1.0, -2.0], [0.5, 3.0]])
    w = np.array([[0.1, 0.2], [0.3, 0.4]])
    grad = student.call("numerical_gradient", lambda v: float(np.sum(secret * v ** 2)), w)
    assert np.allclose(grad, 2 * secret * w, rtol=1e-6)


def test_the_function_itself_never_crosses_the_boundary(student):
    text, kind, attributes = student.call("where_is_f", lambda: None)
    assert kind == "_Callback" and "lambda" not in text and "test_session" not in text
    assert "__code__" not in attributes and "__globals__" not in attributes


def test_the_number_of_evaluations_per_call_is_bounded(student):
    assert student.call("calls", lambda x: x, 50) == 50
    with pytest.raises(StudentException, match="CallbackError") as caught:
        student.call("calls", lambda x: x, 51)
    assert "more than 50 times" in str(caught.value)
    assert student.call("calls", lambda x: x, 3) == 3  # the count is per call


def test_a_failing_trusted_function_names_only_the_exception_type(student):
    def hidden(v):
        raise ValueError("the hidden input was 0.123456")

    with pytest.raises(StudentException) as caught:
        student.call("apply", hidden, 1.0)
    assert "ValueError" in str(caught.value) and "0.123456" not in str(caught.value)


def test_the_time_limit_covers_the_evaluations(student):
    evaluated = []  # counted, not timed: a loaded machine only makes the count smaller

    def slow(x: float) -> None:
        evaluated.append(x)
        time.sleep(0.3)

    with pytest.raises(StudentTimeout):
        student.call("calls", slow, 40, timeout=2.0)
    assert len(evaluated) < 40  # 40 x 0.3 s = 12 s of evaluations: cut off by the 2 s limit
    assert student.call("apply", lambda a, b: a + b, 2, 3) == 5  # the channel is still in step


def test_arguments_are_seen_as_the_function_left_them(student):
    w = np.ones((2, 3))
    value, (w_after, lr_after) = student.call_seeing_args("scale_in_place", w, 0.5)
    assert np.allclose(value, 0.5) and np.allclose(w_after, 0.5) and lr_after == 0.5
    assert np.allclose(w, 1.0)  # the grader's own array is never touched


def test_a_named_budget_replaces_the_call_limit(student):
    started = time.monotonic()
    with pytest.raises(StudentTimeout, match="within 12 s"):
        student.call("slow", budget="long")
    assert time.monotonic() - started >= 11


def test_a_callback_nobody_asked_for_breaks_the_channel():
    """A worker that asks to evaluate a function during a call that was given none is cut off."""
    from autograder.sandbox.box import Sandbox
    from autograder.sandbox.worker_handle import WorkerGone

    sandbox = Sandbox([], Limits())
    try:
        worker = sandbox.spawn()
        assert worker.request({"op": "run_cell", "source": "def g(f):\n    return f(1)"},
                              30)["status"] == "ok"
        forged = {"op": "call", "name": "g", "args": [{"$t": "callable", "fn": 0}]}
        with pytest.raises(WorkerGone, match="not given"):
            worker.request(forged, 30)  # no on_callback: nothing may be evaluated
        assert not worker.alive
    finally:
        sandbox.close()
