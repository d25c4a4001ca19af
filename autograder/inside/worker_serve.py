"""A worker's side of one submission: run its cells, call its functions, send values.

Runs inside the sandbox, in the child the zygote (``worker.py``) forks for one
submission; a copy of this file lies next to ``worker.py``. It answers three
requests (see ``protocol``):

* ``run_cell``: run one notebook cell in an IPython shell, as Jupyter would
  (magics work; shell escapes are refused; an exception ends the cell, not the
  notebook; SIGINT interrupts it like Jupyter's interrupt button);
* ``call`` (and ``call_each``, a loop of calls in one round trip): call a function
  the notebook defined, with decoded arguments, and send back the encoded result
  (and, when asked, the arguments as they are afterwards); an argument that stands
  for a trusted function is a proxy that asks the trusted side for each value
  (``callback`` frames);
* ``get``: send back the encoded value of a global variable;
* ``call_backward`` and ``run_module`` (PyTorch, see ``torch_calls``): a call followed
  by ``backward``, its output and the arguments' gradients; a module class built, put
  in eval or train mode and run without grad, the module (as data) and its output.

Everything this process sends is a *claim*: the student controls this process
and can replace any of this code. The trusted side checks each reply.
"""

from __future__ import annotations

import contextlib
import io
import signal
from collections.abc import Iterator
from typing import Any

import kernel_shell  # the copies next to this file, not the package modules
import protocol

OUTPUT_KEPT = 4096
REQUEST_CAP = 256 * 1024 * 1024


class _Tee(io.TextIOBase):
    """Writes to two sinks: everything printed, and stdout on its own."""

    def __init__(self, *sinks: _CappedText) -> None:
        self.sinks = sinks

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"  # as ipykernel's streams: IPython then prints "µs" and "±"

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        for sink in self.sinks:
            sink.write(text)
        return len(str(text))


class _CappedText(io.TextIOBase):
    """A text sink that keeps the first ``cap`` characters and drops the rest."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.parts: list[str] = []
        self.size = 0
        self.dropped = 0

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        text = str(text)
        room = self.cap - self.size
        if room > 0:
            self.parts.append(text[:room])
            self.size += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def getvalue(self) -> str:
        note = f"\n... [{self.dropped} more characters not kept]" if self.dropped else ""
        return "".join(self.parts) + note


@contextlib.contextmanager
def _interruptible() -> Any:
    """Let SIGINT through only while student code runs."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


def _describe(exc: BaseException) -> dict[str, str]:
    try:
        evalue = str(exc)[:500]
    except Exception:  # noqa: BLE001 - a student's __str__ may raise anything
        evalue = ""
    return {"ename": type(exc).__name__[:80], "evalue": evalue}


def run_cell(shell: Any, source: str) -> dict[str, Any]:
    """Run one cell; reply with its status, its printed output (stdout and stderr as they
    came, and stdout alone) and the notes of what the grader did differently from Jupyter."""
    sink, stdout = _CappedText(OUTPUT_KEPT), _CappedText(OUTPUT_KEPT)
    kernel_shell.take_notes()
    kernel_shell.import_from_working_folder()
    with contextlib.redirect_stdout(_Tee(sink, stdout)), contextlib.redirect_stderr(sink), \
            _interruptible():
        try:
            result = shell.run_cell(source, store_history=False)
            error = result.error_before_exec or result.error_in_exec
        except KeyboardInterrupt as exc:
            error = exc
    reply: dict[str, Any] = {"status": "ok", "output": sink.getvalue(),
                             "stdout": stdout.getvalue(), "notes": kernel_shell.take_notes()}
    if isinstance(error, KeyboardInterrupt):
        reply["status"] = "interrupted"
    elif error is not None:
        reply.update(status="error", **_describe(error))
    return reply


class CallbackError(Exception):
    """The trusted side could not evaluate a function it passed in (raised in student code)."""


class _Callback:
    """Stands for a function of the trusted side passed as an argument (``{"$t": "callable"}``).

    Calling it sends a ``callback`` frame with the encoded arguments over the
    reply channel and waits for the ``callback_result``: the function itself
    never crosses the boundary, only arguments and results do.
    """

    def __init__(self, index: int, link: tuple[int, int, Any]) -> None:
        self._index, self._link = index, link

    def __call__(self, *args: Any) -> Any:
        request_fd, reply_fd, request_id = self._link
        protocol.write_frame(reply_fd, {"id": request_id, "status": "callback",
                                        "fn": self._index,
                                        "args": [protocol.encode(a) for a in args]})
        answer = protocol.read_frame(request_fd, REQUEST_CAP)
        if answer.get("status") != "ok":
            raise CallbackError(str(answer.get("message", "the function could not be evaluated")))
        return protocol.decode(answer.get("value"))

    def __repr__(self) -> str:
        return "<function f>"


def decode_args(args: list[Any], link: tuple[int, int, Any] | None) -> list[Any]:
    """Decode a call's arguments; ``{"$t": "callable", "fn": i}`` becomes a ``_Callback``."""
    decoded = []
    for arg in args:
        if type(arg) is dict and arg.get("$t") == "callable" and link is not None:
            decoded.append(_Callback(int(arg.get("fn", -1)), link))
        else:
            decoded.append(protocol.decode(arg))
    return decoded


def call(shell: Any, name: str, args: list[Any], link: tuple[int, int, Any] | None = None,
         see_args: bool = False, given: Any = None) -> dict[str, Any]:
    """Call ``name``; with ``see_args`` the reply also carries the arguments afterwards;
    ``given`` (name -> a trusted function's ``{"$t": "callable"}``) is bound in the
    notebook's globals for this call only (``_given``)."""
    namespace = shell.user_ns
    if name not in namespace:
        return {"status": "missing"}
    function = namespace[name]
    if not callable(function):
        return {"status": "not_callable", "type": type(function).__name__[:80]}
    if type(given) is dict and given and link is not None:
        with _given(namespace, given, link):
            return _call(function, args, link, see_args)
    return _call(function, args, link, see_args)


@contextlib.contextmanager
def _given(namespace: dict[str, Any], given: dict[str, Any],
           link: tuple[int, int, Any]) -> Iterator[None]:
    """Each name of ``given`` bound to its proxy, then put back as the notebook had it."""
    names = [str(key) for key in given][:16]
    saved = {key: namespace[key] for key in names if key in namespace}
    try:
        for key, proxy in zip(names, decode_args([given[key] for key in names], link)):
            namespace[key] = proxy
        yield
    finally:
        for key in names:
            if key in saved:
                namespace[key] = saved[key]
            else:
                namespace.pop(key, None)


def _call(function: Any, args: list[Any], link: tuple[int, int, Any] | None,
          see_args: bool) -> dict[str, Any]:
    def run() -> dict[str, Any]:
        decoded = decode_args(args, link)
        reply = {"status": "ok", "value": protocol.encode(function(*decoded))}
        if see_args:
            reply["args"] = [protocol.encode(a) for a in decoded]
        return reply

    return _student_runs(run)


def _student_runs(run: Any) -> dict[str, Any]:
    """``run()``'s reply, with student code's output dropped, SIGINT let through, and
    anything it raises (SystemExit too) reported as the call's exception."""
    sink = _CappedText(0)
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), _interruptible():
        try:
            return dict(run())
        except KeyboardInterrupt:
            return {"status": "interrupted"}
        except BaseException as exc:  # noqa: BLE001 - SystemExit from student code too
            return {"status": "exception", **_describe(exc)}


def call_backward(shell: Any, name: str, args: list[Any], upstream: Any) -> dict[str, Any]:
    """``out = name(*args)``, then ``out.backward(upstream)``: the output and each argument's
    ``.grad`` (None where it is not a tensor requiring grad), for gradient checks."""
    function = shell.user_ns.get(name)
    if name not in shell.user_ns or not callable(function):
        return call(shell, name, [])  # the same "missing" / "not_callable" replies

    def run() -> dict[str, Any]:
        import torch_calls

        decoded = decode_args(args, None)
        out, grads = torch_calls.backward(name, function, decoded, protocol.decode(upstream))
        return {"status": "ok", "value": protocol.encode(out),
                "grads": [protocol.encode(g) for g in grads]}

    return _student_runs(run)


def run_module(shell: Any, name: str, init_args: list[Any], inputs: list[Any],
               mode: str) -> dict[str, Any]:
    """Build ``name(*init_args)``, set eval or train mode, run it on ``inputs`` under
    ``torch.no_grad()``; the value is ``(module, output)``."""
    cls = shell.user_ns.get(name)
    if name not in shell.user_ns or not callable(cls):
        return call(shell, name, [])

    def run() -> dict[str, Any]:
        import torch_calls

        module, out = torch_calls.run_module(name, cls, decode_args(init_args, None),
                                             decode_args(inputs, None), mode == "train")
        return {"status": "ok", "value": protocol.encode((module, out))}

    return _student_runs(run)


def call_each(shell: Any, name: str, calls: list[Any]) -> dict[str, Any]:
    """``call`` once per argument list in ``calls``, in order, stopping after the first that
    does not return; the replies in a list (the trusted side's ``StudentSession.call_each``)."""
    replies = []
    for args in calls:
        reply = call(shell, name, list(args))
        replies.append(reply)
        if reply["status"] != "ok":
            break
    return {"status": "ok", "replies": replies}


def get(shell: Any, name: str) -> dict[str, Any]:
    if name not in shell.user_ns:
        return {"status": "missing"}
    with _interruptible():
        return {"status": "ok", "value": protocol.encode(shell.user_ns[name])}


def requests(request_fd: int) -> Iterator[dict[str, Any]]:
    """Each request frame until the trusted side closes the channel."""
    while True:
        try:
            yield protocol.read_frame(request_fd, REQUEST_CAP)
        except EOFError:
            return


def serve(shell: Any, request_fd: int, reply_fd: int, ready_id: int) -> None:
    """Answer requests for one submission until told to exit or the channel closes."""
    protocol.write_frame(reply_fd, {"id": ready_id, "status": "ready"})
    for request in requests(request_fd):
        op = request.get("op")
        try:
            if op == "run_cell":
                reply = run_cell(shell, str(request["source"]))
            elif op == "call":
                reply = call(shell, str(request["name"]), list(request["args"]),
                             (request_fd, reply_fd, request.get("id")),
                             bool(request.get("see_args")), request.get("given"))
            elif op == "call_each":
                reply = call_each(shell, str(request["name"]), list(request["calls"]))
            elif op == "get":
                reply = get(shell, str(request["name"]))
            elif op == "call_backward":
                reply = call_backward(shell, str(request["name"]), list(request["args"]),
                                      request.get("upstream"))
            elif op == "run_module":
                reply = run_module(shell, str(request["name"]), list(request["init_args"]),
                                   list(request["inputs"]), str(request.get("mode")))
            elif op == "exit":
                return
            else:
                reply = {"status": "bad_request"}
        except KeyboardInterrupt:
            reply = {"status": "interrupted"}
        except Exception as exc:  # noqa: BLE001 - report, keep serving
            reply = {"status": "worker_error", **_describe(exc)}
        protocol.write_frame(reply_fd, {"id": request.get("id"), **reply})
