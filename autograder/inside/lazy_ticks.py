"""matplotlib's Axes without the ticks nobody looks at: a backport of matplotlib PR #31525.

Imported where notebooks run (the sandbox's zygote, the check server; a copy of
this file lies next to ``worker.py``), never by the trusted side's grading code.

Creating an Axes makes a major and a minor ``Tick`` on each axis (three lines
and two texts each) and then restyles them, although ``_LazyTickList`` exists so
they are made only when used: ``Axis.set_clip_path`` and
``Axis.set_tick_params`` walk the tick lists and so make them at once. During
grading no figure is ever drawn, and HW1's skeleton draws a 2 x 6 grid of
digits, so these ticks were about half of what grading a correct HW1 notebook
cost in the sandbox. matplotlib's own fix (PR #31525, "Defer tick
materialization during Axes init/clear", merged for the release after 3.11) is
not released yet; this is the same idea, for the versions it was checked on:

* while a tick list is still lazy, ``set_clip_path`` remembers the clip (and a
  raw snapshot of ``rcParams``, as the PR does) instead of making the ticks, and
  ``set_tick_params`` only updates the stored keyword arguments, which
  ``Axis._get_tick`` passes to every tick it makes (matplotlib's own contract);
* when the list is made (``_LazyTickList.__get__``), its tick is made under that
  snapshot of ``rcParams`` and gets that clip: the tick an eager Axes would have
  had;
* ``Axes.clear`` places the four spines, which making the ticks used to do as a
  side effect.

Only plain ``XAxis``/``YAxis`` on Axes whose two axes are both plain are
changed (polar, 3D and other projections keep matplotlib's code), and only on
``TESTED`` versions; elsewhere ``install`` does nothing. ``tests/autograder/
test_lazy_ticks.py`` renders a set of figures with and without it and compares
the PNG bytes and the ticks' properties.
"""

from __future__ import annotations

from typing import Any, Literal

TESTED = ("3.11.",)
_LISTS = ("majorTicks", "minorTicks")
_STATE = "_autograder_lazy_ticks"  # (clip path, transform), rcParams snapshot
_installed = False


def install() -> bool:
    """Patch matplotlib once (True), or leave it alone (False: untested version or absent)."""
    global _installed
    if _installed:
        return True
    try:
        import matplotlib as mpl
        import matplotlib.axis as maxis
        from matplotlib.artist import Artist
        from matplotlib.axes._base import _AxesBase
    except Exception:  # noqa: BLE001 - no matplotlib, nothing to speed up
        return False
    if not mpl.__version__.startswith(TESTED) or not hasattr(mpl.RcParams, "_update_raw") \
            or not hasattr(maxis, "_LazyTickList"):
        return False
    plain = (maxis.XAxis, maxis.YAxis)
    make_list = maxis._LazyTickList.__get__
    clip_children = maxis.Axis.set_clip_path
    tick_params = maxis.Axis.set_tick_params
    clear_axes = _AxesBase.clear

    last: list[dict[str, Any]] = [{}]  # the latest snapshot, shared while rcParams are unchanged

    def raw_rc() -> dict[str, Any]:
        # the stored values: no validation, no lookups
        return dict(dict.items(mpl.rcParams))  # type: ignore[arg-type]

    def unchanged(since: dict[str, Any]) -> bool:
        try:  # a value whose == is not a bool (an array) counts as a change
            return dict.__eq__(mpl.rcParams, since) is True
        except Exception:  # noqa: BLE001
            return False

    def snapshot() -> dict[str, Any]:
        if not unchanged(last[0]):
            last[0] = raw_rc()
        return last[0]

    def lazy_lists(axis: Any) -> list[str]:
        return [name for name in _LISTS if name not in axis.__dict__]

    def __get__(self: Any, instance: Any, owner: Any) -> Any:
        state = None if instance is None else instance.__dict__.get(_STATE)
        if state is None or type(instance) not in plain:
            return make_list(self, instance, owner)
        (path, transform), taken = state
        rc = mpl.rcParams
        now = None if unchanged(taken) else raw_rc()
        if now is not None:
            rc._update_raw(taken)
        try:
            ticks = make_list(self, instance, owner)
        finally:
            if now is not None:
                rc._update_raw(now)
        for tick in ticks:
            tick.set_clip_path(path, transform)
        return ticks

    def set_clip_path(self: Any, path: Any, transform: Any = None) -> None:
        if type(self) not in plain:
            return clip_children(self, path, transform)
        Artist.set_clip_path(self, path, transform)
        lazy = lazy_lists(self)
        for name in _LISTS:
            if name not in lazy:
                for tick in self.__dict__[name]:
                    tick.set_clip_path(path, transform)
        if lazy:
            self.__dict__[_STATE] = ((path, transform), snapshot())
        self.stale = True
        return None

    def set_tick_params(self: Any, which: Literal["major", "minor", "both"] = "major",
                        reset: bool = False,
                        **kwargs: Any) -> None:
        lazy = lazy_lists(self)
        if type(self) not in plain or reset or not lazy:
            return tick_params(self, which, reset, **kwargs)
        try:
            for name in lazy:  # no ticks to restyle: they are made with the stored kwargs
                self.__dict__[name] = []
            return tick_params(self, which, reset, **kwargs)
        finally:
            for name in lazy:
                if self.__dict__.get(name) == []:
                    del self.__dict__[name]

    def clear(self: Any) -> None:
        clear_axes(self)
        if type(self.xaxis) in plain and type(self.yaxis) in plain:
            for side in ("left", "right", "bottom", "top"):
                if side in self.spines:
                    self.spines[side]._ensure_position_is_set()

    # the patches themselves (installed once per process, for the versions in ``TESTED``)
    maxis._LazyTickList.__get__ = __get__  # type: ignore[method-assign]
    maxis.Axis.set_clip_path = set_clip_path  # type: ignore[method-assign]
    maxis.Axis.set_tick_params = set_tick_params  # type: ignore[method-assign]
    _AxesBase.clear = clear  # type: ignore[method-assign]
    _installed = True
    return True
