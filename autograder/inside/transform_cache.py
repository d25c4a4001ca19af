"""IPython's text transformation of a cell, done once for the cells every submission repeats.

Before a cell runs, IPython rewrites its text (``%magic`` and ``!command`` lines,
``name?``) with ``TransformerManager.transform_cell``, which tokenizes the whole
cell in pure Python: 0.45 ms of the 1.4 ms one of HW1's test cells takes in
``run_cell``, measured in a warm shell. Most cells of a submission
are the assignment's own, unchanged (its instructions' code, its checks, its
plots). The sandbox's zygote, which runs no student code, is given those cells'
text by the trusted side (the assignment's notebooks, never a submission's),
transforms them once (``Remembered.remember``), and every worker it forks finds
them ready.

A cell whose text is one of them gets exactly what IPython would compute, since
that is what was computed, by the same shell, from the same text; while the
manager's transformers are the ones it was computed with. A cell that changes
them (adds or removes one) turns the remembered answers off for the rest of
its notebook. Only the static transformations are remembered: IPython's
dynamic ones (``prefilter``, which depends on the user's variables) and
``input_transformers_post`` still run on every cell.

This file runs in the sandbox (copied next to ``worker.py``) and imports nothing
of the project.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

MAX_CELLS = 1000
MAX_CELL_CHARS = 100_000


class Remembered:
    """Stands in for ``manager.transform_cell``: a remembered answer, else the real one."""

    def __init__(self, manager: Any) -> None:
        self.manager = manager
        self.compute: Callable[[str], str] = manager.transform_cell
        self.known: dict[str, str] = {}
        self.transformers = self._transformers()

    def _transformers(self) -> tuple[tuple[Any, ...], ...]:
        manager = self.manager
        return (tuple(manager.cleanup_transforms), tuple(manager.line_transforms),
                tuple(manager.token_transformers))

    def remember(self, cells: Any) -> int:
        """Transform each text of ``cells`` now (trusted text only); how many were kept."""
        if not isinstance(cells, list):
            return 0
        for cell in cells[:MAX_CELLS]:
            if type(cell) is str and len(cell) <= MAX_CELL_CHARS and cell not in self.known:
                with contextlib.suppress(Exception):  # then it is computed when it runs
                    self.known[cell] = self.compute(cell)
        return len(self.known)

    def __call__(self, cell: str) -> str:
        known = self.known.get(cell) if type(cell) is str else None
        if known is not None and self._transformers() == self.transformers:
            return known
        return self.compute(cell)


def install(shell: Any) -> Remembered:
    """Put a ``Remembered`` in front of ``shell``'s static transformations; return it."""
    manager = shell.input_transformer_manager
    remembered = Remembered(manager)
    manager.transform_cell = remembered
    return remembered
