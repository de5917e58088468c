"""Figure kind ``early_bird_distance``: when the early-bird ticket appears (You et al. 2020, their
Figure 3 in small). For each density of the early_bird method (experiments/methods/early_bird.py)
the largest mask distance in the FIFO against the training step (mean over seeds, band of one
standard deviation), the draw threshold, and the draw step (mean, bar of one standard deviation)
on the threshold line. Left of the line at the top, the masks still change; a curve that stays
below it from some step on has its ticket drawn where the FIFO first is full there.
"""

from __future__ import annotations

import statistics

from experiments.plots.axes import FigureData
from experiments.plots.style import CHANCE_STYLE, OKABE_ITO, PERCENT

METHOD = "early_bird"
PREFIX = "eb_dist_"
COLOURS = [OKABE_ITO[name] for name in ("sky_blue", "blue", "bluish_green", "vermillion",
                                        "reddish_purple", "orange", "black")]


def _curve(rows: list[dict]) -> tuple[list[int], list[float], list[float]]:
    """Steps, mean and std over seeds of the FIFO distance of one round's rows."""
    columns = sorted((c for c in rows[0] if c.startswith(PREFIX) and rows[0][c] not in ("", None)),
                     key=lambda c: int(c[len(PREFIX):]))
    values = [[float(row[c]) for row in rows] for c in columns]
    spread = [statistics.stdev(v) if len(v) > 1 else 0.0 for v in values]
    return [int(c[len(PREFIX):]) for c in columns], [statistics.fmean(v) for v in values], spread


def draw_early_bird_distance(fig, data: FigureData) -> None:
    ax = fig.subplots()
    rounds = [entry for entry in data.rounds[METHOD] if "eb_iteration" in entry
              and entry["round"] > 0]
    threshold = data.early_bird_threshold
    for entry, colour in zip(rounds, COLOURS):
        rows = [row for row in data.rows
                if row["method"] == METHOD and int(row["round"]) == entry["round"]]
        steps, mean, spread = _curve(rows)
        ax.fill_between(steps, [m - s for m, s in zip(mean, spread)],
                        [m + s for m, s in zip(mean, spread)], color=colour, alpha=0.18,
                        linewidth=0)
        ax.plot(steps, mean, color=colour, label=f"{PERCENT * entry['density']:.1f}% of weights")
        drawn = entry["eb_iteration"]
        ax.errorbar([drawn["mean"]], [threshold], xerr=[drawn["std"] or 0.0], color=colour,
                    marker="D", capsize=3, linestyle="none")
    ax.axhline(threshold, label=f"threshold {threshold:g}", **CHANCE_STYLE)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("Training step of the dense network")
    ax.set_ylabel("Largest mask distance in the FIFO")
    ax.legend(loc="upper right", frameon=False)
