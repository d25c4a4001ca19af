"""matplotlib's font list, built once per machine on the trusted side and lent to every zygote.

A zygote imports matplotlib (``inside/kernel_shell.preload``) with ``MPLCONFIGDIR``
on its own empty ``/tmp``, so each one used to scan the system's fonts and write
``fontlist-vX.json`` again: 0.2 s per grading process here, seconds on a laptop
with many fonts. ``font_list`` builds that file once, in a separate interpreter
(this one never imports matplotlib for it), and keeps it in the user's cache
(``launch.cache_dir``), keyed by the interpreter, matplotlib's version and the
font folders' times. The sandbox binds it read-only where matplotlib looks.

The file only lists font files of ``/usr`` and the interpreter's folders, which
the sandbox can read anyway; nothing of a submission ever reaches it. Any
failure here costs only the time it saved: the zygote builds its own list.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from .launch import cache_dir

FONT_FOLDERS = ("/usr/share/fonts", "/usr/local/share/fonts")
BUILD_SECONDS = 120


@functools.cache
def font_list() -> Path | None:
    """The font list file (its name is the one matplotlib looks for), or None."""
    try:
        version = importlib.metadata.version("matplotlib")
    except importlib.metadata.PackageNotFoundError:
        return None  # nothing to warm
    folders = [f"{folder}:{os.stat(folder).st_mtime_ns}" for folder in FONT_FOLDERS
               if os.path.isdir(folder)]
    key = hashlib.sha256("\0".join([sys.executable, version, *folders]).encode()).hexdigest()
    home = cache_dir() / f"matplotlib-{key[:20]}"
    with contextlib.suppress(OSError):
        found = sorted(home.glob("fontlist-v*.json"))
        if found:
            return found[-1]
        home.mkdir(parents=True, exist_ok=True)
        return _build(home)
    return None


def font_flags(config: str) -> list[str]:
    """bubblewrap's flags that lend the font list to a sandbox whose ``MPLCONFIGDIR`` is
    ``config`` (the folder stays writable: matplotlib wants it so)."""
    fonts = font_list()
    if fonts is None:
        return []
    return ["--perms", "1777", "--dir", config, "--ro-bind", str(fonts), f"{config}/{fonts.name}"]


def _build(home: Path) -> Path | None:
    """Let matplotlib write its font list in a folder of its own, then move it into ``home``
    (several grading processes may build at once: the last rename wins, all equal)."""
    with tempfile.TemporaryDirectory(dir=home) as scratch:
        env = {key: value for key, value in os.environ.items() if not key.startswith("MPL")}
        env.update(MPLCONFIGDIR=scratch, MPLBACKEND="Agg")
        try:
            subprocess.run([sys.executable, "-E", "-s", "-c", "import matplotlib.font_manager"],
                           env=env, cwd=scratch, capture_output=True, timeout=BUILD_SECONDS,
                           check=True)
        except (OSError, subprocess.SubprocessError):
            return None
        built = sorted(Path(scratch).glob("fontlist-v*.json"))
        if not built:
            return None
        os.replace(built[-1], home / built[-1].name)
        return home / built[-1].name
