"""Figures drawn with and without ``autograder.inside.lazy_ticks`` (``test_lazy_ticks.py`` runs this).

    python lazy_ticks_figures.py [--patch]

Prints one line per figure: its name, the sha256 of its PNG, and the sha256 of the
properties of its first Axes' ticks after drawing (labels, colours, sizes, grid lines,
clip paths, tick parameters). The figures cover what notebooks do: grids of images with
the axes off (HW1's digits), shared axes, tick and grid styling before and after the
ticks exist, rcParams and styles changed around the creation, twin, log, polar and 3D
axes, colour bars, layouts, spines moved, ``cla``, pickling.
"""

import hashlib
import io
import sys
import warnings

import matplotlib

matplotlib.use("agg")
import matplotlib.pyplot as plt
import numpy as np

if "--patch" in sys.argv:
    sys.path.insert(0, sys.argv[sys.argv.index("--patch") + 1])
    import lazy_ticks

    assert lazy_ticks.install(), "lazy_ticks did not install on this matplotlib"

rng = np.random.default_rng(0)
x = np.linspace(0, 10, 50)


def f_line():
    fig, ax = plt.subplots(); ax.plot(x, np.sin(x)); ax.set_title("t"); ax.set_xlabel("x"); return fig


def f_grid_share():
    fig, axs = plt.subplots(3, 3, sharex=True, sharey=True)
    for a in axs.flat: a.plot(x, rng.random(50))
    for a in axs.flat: a.label_outer()
    return fig


def f_tickparams():
    fig, ax = plt.subplots(); ax.tick_params(labelsize=14, colors="red", direction="in", length=10, width=3)
    ax.plot(x, x); ax.grid(True, color="g", linestyle="--"); return fig


def f_tickparams_reset():
    fig, ax = plt.subplots(); ax.tick_params(labelsize=14); ax.tick_params(reset=True, labelcolor="b"); ax.plot(x); return fig


def f_rc_after():
    fig, _ = plt.subplots()
    with plt.rc_context({"xtick.major.size": 12, "xtick.color": "m", "ytick.labelsize": 20}):
        fig2, ax2 = plt.subplots()
    ax2.plot(x); plt.close(fig); return fig2


def f_rc_change_after_create():
    with plt.rc_context({"xtick.direction": "in"}):
        fig, ax = plt.subplots()
    ax.plot(x, x**2); return fig


def f_style():
    with plt.style.context("ggplot"):
        fig, ax = plt.subplots(); ax.hist(rng.normal(size=500), bins=30)
    return fig


def f_twinx():
    fig, ax = plt.subplots(); ax.plot(x); ax2 = ax.twinx(); ax2.plot(x[::-1], "r"); return fig


def f_log():
    fig, ax = plt.subplots(); ax.semilogy(x + 1, np.exp(x)); ax.minorticks_on(); return fig


def f_polar():
    fig = plt.figure(); ax = fig.add_subplot(projection="polar"); ax.plot(x, x); return fig


def f_3d():
    fig = plt.figure(); ax = fig.add_subplot(projection="3d"); ax.plot(x, np.sin(x), np.cos(x)); return fig


def f_imshow_cbar():
    fig, ax = plt.subplots(); im = ax.imshow(rng.random((10, 10))); fig.colorbar(im); return fig


def f_bar_rot():
    fig, ax = plt.subplots(); ax.bar(["a", "b", "c"], [3, 1, 2]); ax.tick_params(axis="x", labelrotation=45); return fig


def f_set_ticks():
    fig, ax = plt.subplots(); ax.plot(x); ax.set_xticks([0, 3, 7], ["zero", "three", "seven"]); ax.set_yticks([]); return fig


def f_axis_off():
    fig, axs = plt.subplots(2, 6, figsize=(9, 3.6))
    for i, a in enumerate(axs.flat):
        a.imshow(rng.random((28, 28)), cmap="gray_r"); a.set_title(f"label {i}", fontsize=9, color="red"); a.axis("off")
    return fig


def f_spines():
    fig, ax = plt.subplots(); ax.spines["left"].set_position("center"); ax.spines["bottom"].set_position(("data", 0))
    ax.spines[["top", "right"]].set_visible(False); ax.plot(x - 5, np.sin(x)); return fig


def f_clear():
    fig, ax = plt.subplots(); ax.plot(x); ax.tick_params(colors="r"); ax.cla(); ax.plot(x, -x); return fig


def f_tight():
    fig, axs = plt.subplots(2, 2); [a.plot(x) for a in axs.flat]; [a.set_title("T") for a in axs.flat]; fig.tight_layout(); return fig


def f_constrained():
    fig, axs = plt.subplots(2, 2, layout="constrained"); [a.scatter(x, x) for a in axs.flat]; fig.suptitle("S"); return fig


def f_inset():
    fig, ax = plt.subplots(); ax.plot(x); ins = ax.inset_axes([0.5, 0.5, 0.4, 0.4]); ins.plot(x, x); return fig


def f_mosaic():
    fig, d = plt.subplot_mosaic("AB;CC"); [a.plot(x) for a in d.values()]; return fig


def f_ticks_top():
    fig, ax = plt.subplots(); ax.xaxis.set_ticks_position("top"); ax.yaxis.tick_right(); ax.plot(x); return fig


def f_grid_minor():
    fig, ax = plt.subplots(); ax.plot(x); ax.minorticks_on(); ax.grid(True, which="both"); ax.grid(True, which="minor", alpha=0.3); return fig


def f_pyplot_state():
    plt.figure(); plt.plot(x, x); plt.xticks(rotation=90); plt.yticks(fontsize=5); plt.grid(); plt.title("p"); return plt.gcf()


def f_loss_curve():
    fig, ax = plt.subplots(figsize=(5,3)); ax.plot(np.exp(-x), label="loss"); ax.legend(); ax.set_yscale("log"); ax.set_xlim(0, 20); return fig


def f_errorbar_dates():
    import datetime as dt
    fig, ax = plt.subplots(); d = [dt.date(2024, 1, i + 1) for i in range(10)]; ax.plot(d, range(10)); fig.autofmt_xdate(); return fig


def f_gridspec_inspect():
    fig, ax = plt.subplots(); ax.tick_params(which="minor", length=7); ax.minorticks_on(); ax.plot(x); return fig


def f_add_axes():
    fig = plt.figure(); ax = fig.add_axes([0.1, 0.1, 0.8, 0.8]); ax.tick_params(grid_color="r", grid_alpha=0.5); ax.grid(True); ax.plot(x); return fig


def f_sharex_tickparams():
    fig, (a, b) = plt.subplots(2, sharex=True); a.tick_params(labelbottom=True); a.plot(x); b.plot(x); return fig


def f_rcparams_global_then_restore():
    old = plt.rcParams["axes.grid"]; plt.rcParams["axes.grid"] = True
    fig, ax = plt.subplots(); plt.rcParams["axes.grid"] = old; ax.plot(x); return fig


def f_ticks_early():
    fig, ax = plt.subplots(); ax.xaxis.get_major_ticks(); ax.tick_params(colors="b", length=8); ax.plot(x); return fig


def f_pickle():
    import pickle
    fig, axs = plt.subplots(1, 2); axs[0].plot(x); axs[1].tick_params(labelsize=3)
    fig2 = pickle.loads(pickle.dumps(fig)); plt.close(fig); return fig2


def f_symlog_both():
    fig, ax = plt.subplots(); ax.plot(x); ax.set_xscale("symlog"); ax.xaxis.set_tick_params(which="both", labelcolor="r"); return fig


def f_rc_grid_context():
    with plt.rc_context({"axes.grid": True, "grid.color": "red", "xtick.minor.visible": True}):
        fig, ax = plt.subplots(); ax.plot(x)
    return fig


def f_rc_array_value():
    fig, ax = plt.subplots()
    dict.__setitem__(plt.rcParams, "keymap.quit", np.array(["q", "Q"]))  # == gives an array
    fig2, ax2 = plt.subplots(); ax2.plot(x); ax.plot(x)
    dict.__setitem__(plt.rcParams, "keymap.quit", ["ctrl+w", "cmd+w", "q"])
    plt.close(fig2); return fig


def properties(fig):
    ax = fig.axes[0]
    return repr([
        [(t.get_text(), t.get_color(), t.get_fontsize()) for t in ax.get_xticklabels()],
        [(line.get_visible(), line.get_color(), line.get_linewidth()) for line in ax.get_xgridlines()],
        ax.xaxis.get_tick_params(), ax.yaxis.get_tick_params(which="minor"),
        [type(line.get_clip_path()).__name__ for line in ax.get_xgridlines()],
        [(t.tick1line.get_markersize(), t.tick1line.get_color()) for t in ax.xaxis.get_major_ticks()],
    ])


def main():
    for name, case in sorted((k, v) for k, v in globals().items() if k.startswith("f_")):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fig = case()
            png = io.BytesIO()
            fig.savefig(png, format="png", dpi=50)
            state = properties(fig)
        print(name, hashlib.sha256(png.getvalue()).hexdigest()[:16],
              hashlib.sha256(state.encode()).hexdigest()[:16])
        plt.close("all")


if __name__ == "__main__":
    main()
