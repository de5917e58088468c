"""Figure kind ``lmc_vs_rewind`` (Frankle et al. 2020, Figures 3 and 5 in small): the ``lmc``
method in every experiment of the spec's ``panels``, which differ only in the rewind step k.

Top: test error along the linear path between the two copies, one line per k (mean over seeds),
dense network left, sparsest ticket right. Bottom left: the error barrier against k (mean and
standard deviation over seeds), dense and sparse. Bottom right: test accuracy at early stop of
the sparse ticket rewound to k, against k, beside the dense network's.
"""

from __future__ import annotations

import statistics

from experiments.plots.axes import FigureData
from experiments.plots.style import PERCENT

SIZE_IN = (6.0, 5.2)


def _path(data: FigureData, which: str) -> list[float]:
    """Mean over seeds of the path errors of lmc's dense (round 0) or sparse (last) round."""
    rows = [row for row in data.rows if row["method"] == "lmc"]
    last = max(row["round"] for row in rows)
    chosen = [row for row in rows if row["round"] == (0 if which == "dense" else last)]
    columns = sorted((c for c in chosen[0] if c.startswith("path_err_")),
                     key=lambda c: int(c.rsplit("_", 1)[1]))
    return [statistics.fmean(float(row[c]) for row in chosen) for c in columns]


def _entry(data: FigureData, which: str) -> dict:
    rounds = data.rounds["lmc"]
    return rounds[0] if which == "dense" else rounds[-1]


def _mean_std(entry: dict) -> tuple[float, float]:
    return entry["mean"], entry["std"] or 0.0


def draw_lmc_vs_rewind(fig, panels: dict[str, FigureData]) -> None:
    ordered = sorted(panels.values(), key=lambda d: d.rewind_iteration)
    ks = [d.rewind_iteration for d in ordered]
    axes = fig.subplots(2, 2)
    for ax, which in zip(axes[0], ("dense", "sparse")):
        for data in ordered:
            errors = [PERCENT * e for e in _path(data, which)]
            alphas = [i / (len(errors) - 1) for i in range(len(errors))]
            ax.plot(alphas, errors, label=f"k = {data.rewind_iteration}")
        density = _entry(ordered[0], which)["density"]
        ax.set_title(f"{which}, {PERCENT * density:.1f}% of weights")
        ax.set_xlabel("interpolation alpha")
    axes[0][0].set_ylabel("Test error (%)")
    axes[0][1].legend(loc="best", frameon=False, fontsize="small")
    barrier_ax, acc_ax = axes[1]
    for which, marker in (("dense", "o"), ("sparse", "s")):
        stats = [_mean_std(_entry(d, which)["barrier"]) for d in ordered]
        barrier_ax.errorbar(ks, [PERCENT * m for m, _ in stats], [PERCENT * s for _, s in stats],
                            marker=marker, capsize=3, label=which)
        stats = [_mean_std(_entry(d, which)["test_acc"]) for d in ordered]
        acc_ax.errorbar(ks, [PERCENT * m for m, _ in stats], [PERCENT * s for _, s in stats],
                        marker=marker, capsize=3, label=f"{which}, rewound to k")
    barrier_ax.set_xlabel("rewind step k")
    barrier_ax.set_ylabel("Error barrier (%)")
    barrier_ax.legend(loc="best", frameon=False)
    acc_ax.set_xlabel("rewind step k")
    acc_ax.set_ylabel("Test accuracy at early stop (%)")
    acc_ax.legend(loc="best", frameon=False, fontsize="small")
