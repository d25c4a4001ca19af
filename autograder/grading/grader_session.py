"""One pytest session of an assignment's hidden graders, kept for many submissions.

Starting pytest (configuration, plugins, importing and collecting the grader
file) cost more per submission than running HW1's tests against a warm worker,
so a grading process keeps one session per grader file and version:
``pytest.main`` runs in a thread of its own, collects once, and then, in this
module's ``pytest_runtestloop`` hook (pytest's documented place for a custom
run loop), runs the collected items once for each submission handed to it,
with the ``student`` fixture bound to that submission's ``StudentSession`` and
``rng`` seeded from that submission's seed (``GradingPlugin.begin``).

Nothing of one submission survives into the next through pytest: the last
item of each pass is run with ``nextitem=None``, so every fixture, of any
scope, is torn down and set up again for the next submission. The grader
module itself is imported once per process (as it already was across
``pytest.main`` calls: pytest keeps it in ``sys.modules``).

The calling thread hands a submission over and waits; the two threads never
run at the same time. A pass that does not end within ``wait_seconds`` (a
grader stuck in its own code: every call into student code has its own
deadline) is reported as a problem and the session is abandoned.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import traceback
from pathlib import Path
from typing import Any

import pytest

from .pytest_plugin import GradingPlugin

PYTEST_ARGS = ["-p", "no:terminal", "--assert=plain", "-o", "addopts=",
               "-o", "python_functions=test_*", "--capture=sys",
               # built-in plugins the graders do not use; each costs time in every session
               *(arg for name in ("cacheprovider", "stepwise", "warnings", "unraisableexception",
                                  "threadexception", "doctest", "junitxml", "pastebin",
                                  "legacypath", "tmpdir", "recwarn", "logging", "faulthandler",
                                  "setuponly", "setupplan", "debugging", "nose", "randomly",
                                  "xdist")
                 for arg in ("-p", f"no:{name}"))]
INI = Path(__file__).with_name("grading.ini")


class GraderSessionBroken(Exception):
    """The grader session ended or stopped answering; nothing was scored by it."""


class GraderSession:
    """A live pytest session of one grader file; ``run`` grades one submission with it."""

    def __init__(self, grader: Path, plugin: GradingPlugin, wait_seconds: float = 600.0) -> None:
        self.plugin = plugin
        self.wait_seconds = wait_seconds
        self._jobs: queue.SimpleQueue[tuple[Any, int] | None] = queue.SimpleQueue()
        self._done: queue.SimpleQueue[tuple[str, str]] = queue.SimpleQueue()
        self._broken = ""
        args = [str(grader), "--rootdir", str(grader.parent), "-c", str(INI), *PYTEST_ARGS]
        os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # graders need no installed plugins
        self._thread = threading.Thread(target=self._main, args=(args,), daemon=True,
                                        name=f"graders-{grader.stem}")
        self._thread.start()
        with contextlib.suppress(GraderSessionBroken):  # then not alive; ``run`` says why
            self._wait()  # collected (or failed to)

    @property
    def alive(self) -> bool:
        return not self._broken and self._thread.is_alive()

    def run(self, student: Any, seed: int) -> None:
        """Run every collected test against ``student``; outcomes land in ``self.plugin``."""
        if not self.alive:
            raise GraderSessionBroken(self._broken or "the grader session has ended")
        self._jobs.put((student, seed))
        self._wait()

    def close(self) -> None:
        """End the pytest session (its thread finishes); later calls do nothing."""
        if self._thread.is_alive() and not self._broken:
            self._jobs.put(None)
            self._thread.join(self.wait_seconds)
        self._broken = self._broken or "closed"

    def _wait(self) -> None:
        try:
            kind, detail = self._done.get(timeout=self.wait_seconds)
        except queue.Empty:
            self._broken = f"the hidden graders did not finish within {self.wait_seconds:g} s"
            raise GraderSessionBroken(self._broken) from None
        if kind == "ended":
            self._broken = detail
            raise GraderSessionBroken(detail)
        if kind == "error":
            raise GraderSessionBroken(detail)

    # ------------------------------------------------------------------ the pytest thread

    def _main(self, args: list[str]) -> None:
        detail = "the grader session ended"
        try:
            code = pytest.main(args, plugins=[self.plugin, self])
            detail = f"pytest ended with exit code {int(code)} before running the graders"
        except BaseException:  # noqa: BLE001 - reported to the waiting thread, never lost
            detail = "pytest failed: " + traceback.format_exc(limit=3)[-1000:]
        finally:
            self._done.put(("ended", detail))

    def pytest_configure(self, config: pytest.Config) -> None:
        # what ``--tb=native`` sets (an option of the terminal plugin, which is off: the TA log
        # is ``GradingPlugin.log``). pytest's own rendering parses the grader's source with
        # ``ast`` for every frame of every failed test, tens of ms each; native reads lines.
        config.option.tbstyle = "native"

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        self._done.put(("ready", ""))
        while (job := self._jobs.get()) is not None:
            try:
                self.plugin.begin(*job)
                items = session.items
                for index, item in enumerate(items):
                    nextitem = items[index + 1] if index + 1 < len(items) else None
                    item.config.hook.pytest_runtest_protocol(item=item, nextitem=nextitem)
            except Exception:  # noqa: BLE001 - a broken hook costs this submission only
                self._broken = "pytest failed: " + traceback.format_exc(limit=3)[-1000:]
                self._done.put(("error", self._broken))
                return True  # half-run fixtures: this session is not reused
            else:
                self._done.put(("done", ""))
        return True
