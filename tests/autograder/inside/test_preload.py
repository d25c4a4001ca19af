"""The torch zygote cannot hang: one thread set before any work, checked before every fork;
a failed warm-up is reported. Each case runs in a fresh interpreter (as a zygote would:
thread settings are once per process), from the inside folder, with the sandbox's env."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from autograder.sandbox.launch import INSIDE_DIR, worker_env

pytest.importorskip("torch")


def inside(code: str) -> str:
    """Run ``code`` in a fresh interpreter next to the inside modules; its stdout. In a
    session of its own: a zygote that did fork would kill the rest of its session."""
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=INSIDE_DIR,
                            env=dict(worker_env(), HOME="/tmp"), capture_output=True,
                            text=True, timeout=300, check=False, start_new_session=True)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip()


def test_prepare_sets_one_thread_warms_up_and_the_check_sees_changes():
    out = inside("""
        import os, preload, torch
        preload.prepare(["torch"])
        print(torch.get_num_threads(), torch.get_num_interop_threads(),
              len(os.listdir("/proc/self/task")), preload.fork_problem(["torch"]))
        torch.set_num_threads(2)
        print(preload.fork_problem(["torch"]))
    """)
    assert out.splitlines() == [
        "1 1 1 None",
        ("torch uses 2 intra-op and 1 inter-op threads; forked workers would hang "
         "(one each is required)")]


def test_threads_that_cannot_be_set_any_more_are_an_error():
    """torch refuses a second set_num_interop_threads: the zygote must not go on with two."""
    out = inside("""
        import preload, torch
        torch.set_num_interop_threads(2)
        try:
            preload.prepare(["torch"])
        except preload.PreloadError as exc:
            print(exc)
    """)
    assert out.startswith("torch: could not set one thread before any work")


@pytest.mark.parametrize("sabotage, message", [
    ("torch.nn.functional.cross_entropy = lambda logits, y: logits.sum() * float('nan')",
     "torch: the warm-up step gave non-finite values"),
    ("torch.optim.Adam = None",
     "torch: the warm-up failed: TypeError: 'NoneType' object is not callable"),
], ids=["nan", "raises"])
def test_a_failing_warm_up_is_reported(sabotage, message):
    out = inside(f"""
        import preload, torch
        {sabotage}
        try:
            preload.prepare(["torch"])
        except preload.PreloadError as exc:
            print(exc)
    """)
    assert out == message


def test_the_zygote_refuses_to_fork_with_a_second_thread():
    """A thread started after the warm-up (here a sleeping one): the fork request is answered
    ``fork-refused`` with the reason, and no child is made."""
    out = inside("""
        import os, threading, time
        import preload, protocol, worker
        original = preload.prepare
        def prepare(names):
            original(names)
            threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
        preload.prepare = prepare
        request_r, request_w = os.pipe()
        reply_r, reply_w = os.pipe()
        protocol.write_frame(request_w, {"op": "fork", "id": 7})
        protocol.write_frame(request_w, {"op": "exit"})
        world = {"fresh": False, "problem": None, "home": "", "scratch_bytes": 1,
                 "seccomp": None, "preload": ["torch"]}
        worker.zygote(request_r, reply_w, [], False, world)
        print(protocol.read_frame(reply_r)["status"])
        reply = protocol.read_frame(reply_r)
        print(reply["id"], reply["status"], reply["reason"])
    """)
    assert out.splitlines() == [
        "zygote-ready",
        "7 fork-refused the zygote runs 2 threads; a forked worker could hang"]
