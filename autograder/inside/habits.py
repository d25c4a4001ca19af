"""Colab habits IPython alone does not absorb: ``os.chdir`` into Colab's folders and
``%load_ext`` of an extension the grading environment lacks (``kernel_shell`` uses both).

Like ``%cd`` into a folder that does not exist, each is skipped with a note: the rest of
the cell runs (in Colab it did). Runs in the sandbox next to ``kernel_shell.py``; imports
nothing of the project.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable
from typing import Any

COLAB_ROOTS = ("/content", "/gdrive", "/kaggle")


def missing_extension(line: str) -> bool:
    """Whether ``%load_ext LINE`` names a module that is not installed (IPython's own
    extensions, ``autoreload``..., are found as IPython finds them)."""
    name = line.strip().split(" ")[0] if line.strip() else ""
    return bool(name) and not any(_found(n) for n in (name, f"IPython.extensions.{name}"))


def _found(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def guard_chdir(user_ns: dict[str, Any], note: Callable[[str], None]) -> None:
    """``os.chdir`` called by the notebook's own code into a Colab or Kaggle folder that
    does not exist here is skipped with a note; every other call is the real one."""
    real = os.chdir

    def chdir(path: Any) -> None:
        if isinstance(path, str | bytes | os.PathLike) and sys._getframe(1).f_globals is user_ns:
            text = os.fsdecode(os.fspath(path))
            target = os.path.abspath(os.path.expanduser(text))
            if target.startswith(COLAB_ROOTS) and not os.path.isdir(target):
                note(f"`os.chdir({text[:60]!r})` was skipped: that folder does not exist "
                     "during grading")
                return
        real(path)

    os.chdir = chdir
