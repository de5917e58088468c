"""Figure kind ``ticket_anatomy``: what ticket_anatomy (experiments/methods/anatomy.py) measures
of imp's masks, each measurement beside what a random mask of the same counts would give.

Top left: the first layer's profile, the share of hidden units keeping each input position, at
three rounds (mean over seeds, band of one std; dotted: the layer's density, a random mask's
expected profile). Top right: how often a kept first-layer weight's neighbouring input is kept
too. Bottom left: the share of imp's kept weights that one-shot pruning keeps. Bottom right:
|theta_0| of kept and of pruned weights in layer standard deviations. Against density.
"""

from __future__ import annotations

import statistics

from experiments.plots.axes import FigureData, format_density_axis, std_or_zero
from experiments.plots.style import CHANCE_STYLE, PERCENT

SIZE_IN = (6.0, 5.2)
METHOD = "ticket_anatomy"
PROFILE_PREFIX = "in_pos_"


def _measured(data: FigureData) -> list[dict]:
    """The pruned rounds (round 0 is dense and has no measurements)."""
    return [entry for entry in data.rounds[METHOD] if "neighbour_kept" in entry]


def _line(ax, rounds: list[dict], metric: str, label: str, **style) -> None:
    x = [PERCENT * entry["density"] for entry in rounds]
    mean = [PERCENT * entry[metric]["mean"] for entry in rounds]
    spread = [PERCENT * std_or_zero(entry[metric]) for entry in rounds]
    ax.fill_between(x, [m - s for m, s in zip(mean, spread)], [m + s for m, s in zip(mean, spread)],
                    alpha=0.18, linewidth=0, color=style.get("color"))
    ax.plot(x, mean, label=label, **style)


def _profile(data: FigureData, round_index: int) -> tuple[list[float], list[float]]:
    """Mean and std over seeds of the input profile of one round."""
    rows = [row for row in data.rows if row["method"] == METHOD and row["round"] == round_index]
    columns = sorted((c for c in rows[0] if c.startswith(PROFILE_PREFIX)),
                     key=lambda c: int(c[len(PROFILE_PREFIX):]))
    values = [[float(row[c]) for row in rows] for c in columns]
    spread = [statistics.stdev(v) if len(v) > 1 else 0.0 for v in values]
    return [statistics.fmean(v) for v in values], spread


def _profile_panel(ax, data: FigureData, rounds: list[dict]) -> None:
    shown = [rounds[0], rounds[len(rounds) // 2], rounds[-1]]
    for entry, colour in zip(shown, ("#56B4E9", "#0072B2", "#000000")):
        mean, spread = _profile(data, entry["round"])
        positions = range(len(mean))
        ax.fill_between(positions, [PERCENT * (m - s) for m, s in zip(mean, spread)],
                        [PERCENT * (m + s) for m, s in zip(mean, spread)], color=colour,
                        alpha=0.18, linewidth=0)
        ax.plot(positions, [PERCENT * m for m in mean], color=colour,
                label=f"{PERCENT * entry['density']:.0f}% of weights")
        ax.axhline(PERCENT * entry["first_density"]["mean"], **CHANCE_STYLE)
    ax.set_xlabel("input position")
    ax.set_ylabel("units keeping it (%)")
    # Centre: between the densest profile (top) and the sparser ones (bottom).
    ax.legend(loc="center", frameon=False)


def draw_ticket_anatomy(fig, data: FigureData) -> None:
    rounds = _measured(data)
    (profile_ax, local_ax), (overlap_ax, init_ax) = fig.subplots(2, 2)
    _profile_panel(profile_ax, data, rounds)
    panels = ((local_ax, ("neighbour_kept", "neighbour_chance"), "neighbour kept (%)"),
              (overlap_ax, ("oneshot_overlap", "overlap_chance"), "kept by one-shot too (%)"))
    for ax, (measured, chance), ylabel in panels:
        _line(ax, rounds, measured, "IMP ticket", color="#0072B2", marker="o")
        _line(ax, rounds, chance, "random mask", color="#777777", linestyle=":")
        ax.set_ylabel(ylabel)
    for metric, label, colour in (("kept_init_mag", "kept", "#0072B2"),
                                  ("pruned_init_mag", "pruned", "#D55E00")):
        x = [PERCENT * entry["density"] for entry in rounds]
        ax_values = [entry[metric] for entry in rounds]
        init_ax.errorbar(x, [v["mean"] for v in ax_values], [std_or_zero(v) for v in ax_values],
                         color=colour, marker="o", capsize=2, label=label)
    init_ax.set_ylabel(r"$|\theta_0|$ (layer std)")
    for ax in (local_ax, overlap_ax, init_ax):
        format_density_axis(ax, data, [METHOD])
        ax.legend(loc="best", frameon=False)
