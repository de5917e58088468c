"""Panels shared by the figure kinds: a metric against the density on a log axis."""

from __future__ import annotations

from dataclasses import dataclass

from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator, NullFormatter

from experiments.plots.style import DENSE_STYLE, METHOD_STYLES, PERCENT


@dataclass
class FigureData:
    """What the drawing functions need: per-method rounds and the dense network, over seeds."""
    rounds: dict[str, list[dict]]
    dense: dict[str, dict]
    methods: list[str]
    seeds: list[int]
    training_lr: float = 0.0  # the experiment's learning rate, for panel titles
    rewind_iteration: int | None = None  # the experiment's k, for the rewinding figures
    rows: list[dict] | None = None  # the raw rows of rounds.csv (extra columns as text)
    early_bird_threshold: float | None = None  # the experiment's early_bird.threshold


def std_or_zero(entry: dict) -> float:
    return entry["std"] if entry["std"] is not None else 0.0


def plot_methods(ax, data: FigureData, methods: list[str], metric: str,
                 scale: float = 1.0) -> None:
    """One line per method: mean over seeds, with a band of plus or minus one std."""
    for method in methods:
        style = METHOD_STYLES[method]
        rounds = data.rounds[method]
        x = [entry["density"] * PERCENT for entry in rounds]
        mean = [entry[metric]["mean"] * scale for entry in rounds]
        spread = [std_or_zero(entry[metric]) * scale for entry in rounds]
        ax.fill_between(x, [m - s for m, s in zip(mean, spread)],
                        [m + s for m, s in zip(mean, spread)],
                        color=style.color, alpha=0.18, linewidth=0)
        ax.plot(x, mean, color=style.color, marker=style.marker, linestyle=style.linestyle,
                label=style.label)


def plot_metric(ax, data: FigureData, metric: str, scale: float = 1.0,
                methods: list[str] | None = None) -> None:
    """The methods' lines and the dense network's mean as a dashed reference line."""
    shown = data.methods if methods is None else methods
    plot_methods(ax, data, shown, metric, scale)
    ax.axhline(data.dense[metric]["mean"] * scale, label="Dense network, trained", **DENSE_STYLE)
    format_density_axis(ax, data, shown)


MAX_TICKS = 8
TICK_STEPS = ((1, 0.7, 0.5, 0.3, 0.2), (1, 0.5, 0.2), (1,))  # finest first


def density_ticks(lowest: float) -> list[float]:
    """Percent ticks from 100 down to ``lowest``: the finest step set that gives few enough."""
    decades = [100 / 10 ** power for power in range(6)]
    for steps in TICK_STEPS:
        ticks = [round(decade * step, 6) for decade in decades for step in steps]
        ticks = [tick for tick in ticks if tick >= lowest]
        if len(ticks) <= MAX_TICKS:
            break
    return ticks


def format_density_axis(ax, data: FigureData, methods: list[str] | None = None) -> None:
    """Log x axis of percent of weights remaining, running from 100 down to the sparsest round."""
    shown = data.methods if methods is None else methods
    lowest = min(entry["density"] * PERCENT
                 for method in shown for entry in data.rounds[method]) / 1.08
    ax.set_xscale("log")
    ax.set_xlim(PERCENT * 1.08, lowest)  # reversed limits: density falls to the right
    ax.xaxis.set_major_locator(FixedLocator(density_ticks(lowest)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("Weights remaining (%)")


def accuracy_panel(ax, data: FigureData, methods: list[str] | None = None) -> None:
    plot_metric(ax, data, "test_acc", scale=PERCENT, methods=methods)
    ax.set_ylabel("Test accuracy at early stop (%)")


def early_stop_panel(ax, data: FigureData, methods: list[str] | None = None) -> None:
    plot_metric(ax, data, "early_stop_iter", methods=methods)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # iterations are whole numbers
    ax.set_ylabel("Early-stop iteration")
