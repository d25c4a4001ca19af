"""``StudentSession.call_each``: many calls of one function in one round trip, in a real worker.

To the grader it reads as a loop of ``call``: the values come in order, and the item
whose call raised raises there. What differs is said in its docstring: the calls
before a failing check have all run, and the time limit is per call times the count.
"""

from __future__ import annotations

import numpy as np
import pytest

from autograder.errors import BadReply, MissingName, StudentException, StudentTimeout
from autograder.grading.session import StudentSession
from autograder.intake.notebook import Cell
from autograder.sandbox.launch import Limits

NOTEBOOK = '''
import time
import numpy as np

calls = 0

def double(x):
    global calls
    calls += 1
    if isinstance(x, str):
        raise ValueError("not a number")
    return 2 * x

def count():
    return calls

def nap(seconds):
    time.sleep(seconds)
    return seconds
'''

# Rewrites the worker's own ``call_each`` (its globals reached through the cell's
# ``sys.stdout``, a class of the worker's): a worker that lies about how many calls it made.
LIAR = '''
import sys
worker = type(sys.stdout).write.__globals__
assert "call_each" in worker
def lying_call_each(shell, name, calls):
    return {{"status": "ok", "replies": {replies}}}
worker["call_each"] = lying_call_each
'''


@pytest.fixture(scope="module")
def student():
    session = StudentSession((Cell(0, NOTEBOOK),), [], Limits(call_seconds=1.0))
    assert [o.status for o in session.start()] == ["ok"]
    yield session
    session.close()


def test_the_values_come_in_order(student):
    values = list(student.call_each("double", [(1,), (np.arange(3.0),), (2.5,)]))
    assert values[0] == 2 and values[2] == 5.0
    np.testing.assert_array_equal(values[1], [0.0, 2.0, 4.0])


def test_the_call_that_raised_raises_at_its_item_and_the_rest_do_not_run(student):
    before = student.call("count")
    values = student.call_each("double", [(1,), ("x",), (3,)])
    assert next(values) == 2
    with pytest.raises(StudentException, match="ValueError: not a number"):
        next(values)
    assert student.call("count") - before == 2


def test_a_missing_function_raises_at_the_first_item(student):
    with pytest.raises(MissingName):
        list(student.call_each("nowhere", [(1,), (2,)]))


def test_the_time_limit_is_per_call_times_the_number_of_calls(student):
    assert list(student.call_each("nap", [(0.6,), (0.6,)])) == [0.6, 0.6]  # 1.2 s of 2 s
    with pytest.raises(StudentTimeout):
        list(student.call_each("nap", [(0.1,), (30,)]))
    assert student.call("double", 4) == 8  # interrupted, the session goes on


def test_no_calls_is_no_request_and_functions_are_refused(student):
    assert list(student.call_each("double", [])) == []
    with pytest.raises(TypeError, match="use call"):
        student.call_each("double", [(len,)])


@pytest.mark.parametrize("replies", [
    '[{"status": "ok", "value": 1}] * (len(calls) + 1)',  # more replies than calls
    '[{"status": "ok", "value": 1}]',  # fewer, yet the last one returned
    '["ok"] * len(calls)',  # not replies at all
    '[]',
])
def test_a_worker_that_lies_about_its_calls_is_caught(replies):
    cells = (Cell(0, NOTEBOOK), Cell(1, LIAR.format(replies=replies)))
    with StudentSession(cells, [], Limits(call_seconds=5.0)) as session:
        assert [o.status for o in session.start()] == ["ok", "ok"]
        with pytest.raises(BadReply):
            list(session.call_each("double", [(1,), (2,)]))


STUBBORN = '''
import signal

def stubborn(x):
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        pass
'''


def test_a_call_that_ignores_the_interrupt_names_one_calls_limit_too():
    """Killed after the grace period: the message names the call's limit (as ``call``'s
    does), not the batch's total."""
    cells = (Cell(0, NOTEBOOK), Cell(1, STUBBORN))
    limits = Limits(call_seconds=0.5, interrupt_grace_seconds=0.2)
    with StudentSession(cells, [], limits) as session:
        assert [o.status for o in session.start()] == ["ok", "ok"]
        with pytest.raises(StudentTimeout) as raised:
            list(session.call_each("stubborn", [(1,), (2,), (3,)]))
        assert str(raised.value) == ("`stubborn` did not return within 0.5 s and did not stop "
                                     "when interrupted")
