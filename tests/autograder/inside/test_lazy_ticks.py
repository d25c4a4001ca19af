"""``autograder.inside.lazy_ticks``: Axes made without their ticks, drawn exactly as before.

It patches matplotlib for the whole process, so each check runs in a Python of its own.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGE = HERE.parents[2] / "autograder" / "inside"  # imported by plain name, as in the sandbox
FIGURES = HERE / "lazy_ticks_figures.py"


def python(*args: str, code: str | None = None) -> str:
    command = [sys.executable, *(["-c", code] if code is not None else []), *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_every_figure_is_drawn_and_ticked_exactly_as_without_it():
    plain = python(str(FIGURES)).splitlines()
    patched = python(str(FIGURES), "--patch", str(PACKAGE)).splitlines()
    assert len(plain) >= 30
    assert patched == plain


PROBE = """
import sys
sys.path.insert(0, {package!r})
import matplotlib
matplotlib.use("agg")
{before}
import lazy_ticks
import matplotlib.pyplot as plt
print(lazy_ticks.install())
fig, axes = plt.subplots(2, 6)
for ax in axes.flat:
    ax.imshow([[0, 1], [1, 0]])
    ax.set_title("t")
    ax.axis("off")
made = lambda: sum(name in axis.__dict__ for ax in fig.axes for axis in (ax.xaxis, ax.yaxis)
                   for name in ("majorTicks", "minorTicks"))
print(made())
for ax in fig.axes:
    ax.axis("on")
fig.canvas.draw()
print(made())
"""


def test_new_axes_make_their_ticks_only_when_drawn():
    out = python(code=PROBE.format(package=str(PACKAGE), before="")).split()
    assert out == ["True", "0", "48"]  # 12 Axes x 2 axes x (major, minor)


def test_an_untested_matplotlib_is_left_alone():
    before = "matplotlib.__version__ = '3.12.0'"
    out = python(code=PROBE.format(package=str(PACKAGE), before=before)).split()
    assert out == ["False", "48", "48"]


def test_notebooks_in_the_sandbox_get_it(run):
    student = run("import matplotlib.pyplot as plt\n"
                      "fig, axes = plt.subplots(2, 6)\n"
                      "lazy = not any('majorTicks' in ax.xaxis.__dict__ for ax in axes.flat)\n"
                      "plt.show()\n"
                      "def probe():\n    return lazy")
    assert [o.status for o in student.outcomes] == ["ok"]
    assert student.call("probe") is True
