"""Figures drawn from an experiment's combined ``rounds.csv``, one function per kind of figure.

Command line (the ``figure`` rule calls it)::

    python -m experiments.figures --experiments-file F --figure NAME --results results/E \
        --out figures/NAME.pdf

writes the vector PDF and, beside it, ``figures/NAME.provenance.json``: the provenance block
(rule ``"figure"``) plus ``"figure"``, ``"kind"`` and ``"sources"`` (the files read).  The device
recorded is the one in ``results/E/summary.json``'s provenance when that file exists.

A figure is declared in the experiment set under the experiment it is drawn from::

    figures:
      lth_accuracy: {kind: accuracy_vs_density, methods: [imp, reinit, random]}

Keys of a figure spec: ``kind`` (one of ``KINDS``) and optionally ``methods`` (which methods to
draw, in legend order; each kind has a default).  Kinds:

* ``accuracy_vs_density``: test accuracy at the early-stop iteration against percent of weights
  remaining (log axis running from 100 down), one line per method, mean over seeds with a band of
  plus or minus one standard deviation, the dense network's mean as a dashed reference line.
* ``early_stop_vs_density``: the early-stop iteration, drawn the same way.
* ``oneshot_vs_iterative``: imp against oneshot, accuracy and early-stop iteration side by side.
* ``rewind_vs_reset``: imp (reset to initialisation) against imp_rewind, the same two panels.

Accuracies in rounds.csv are fractions; the axes show percent.  Colours are the Okabe-Ito
palette, fixed per method across all figures, each method also with its own marker and line
style so the figures read in greyscale.  Fonts are embedded as TrueType and the PDF carries no
creation date, so the same inputs give the same bytes and an unchanged figure does not look changed.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator, NullFormatter

from experiments.aggregate import dense_rows, group_rounds, stat
from experiments.rounds import AggregateError, read_rounds
from experiments.atomic import write_bytes, write_text
from experiments.config import ConfigError, find_figure, load_experiment_set
from experiments.provenance import collect_provenance

FIGURE_SIZE_IN = (6.0, 3.6)  # thesis column width
SPEC_KEYS = {"kind", "methods"}
PERCENT = 100.0

OKABE_ITO = {"black": "#000000", "orange": "#E69F00", "sky_blue": "#56B4E9",
             "bluish_green": "#009E73", "yellow": "#F0E442", "blue": "#0072B2",
             "vermillion": "#D55E00", "reddish_purple": "#CC79A7"}


@dataclass(frozen=True)
class MethodStyle:
    label: str
    color: str
    marker: str
    linestyle: str | tuple


METHOD_STYLES = {
    "imp": MethodStyle("IMP, reset to init", OKABE_ITO["blue"], "o", "-"),
    "imp_rewind": MethodStyle("IMP, rewind", OKABE_ITO["vermillion"], "s", "--"),
    "oneshot": MethodStyle("One-shot", OKABE_ITO["bluish_green"], "^", "-."),
    "reinit": MethodStyle("Random reinit", OKABE_ITO["orange"], "D", ":"),
    "random": MethodStyle("Random pruning", OKABE_ITO["reddish_purple"], "v", (0, (5, 1, 1, 1))),
}
# Below the method lines (zorder 2) so a method that stays at dense accuracy is not hidden.
DENSE_STYLE = {"color": OKABE_ITO["black"], "linestyle": (0, (4, 2)), "linewidth": 0.9,
               "zorder": 1.5}

# Pinned so a user's matplotlibrc cannot change the figures; Type 42 embeds TrueType fonts.
RC_PARAMS = {
    "font.family": "DejaVu Sans", "font.size": 9, "axes.labelsize": 9, "axes.titlesize": 9,
    "legend.fontsize": 7.5, "xtick.labelsize": 8, "ytick.labelsize": 8,
    "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True,
    "grid.linewidth": 0.4, "grid.alpha": 0.5, "lines.linewidth": 1.4, "lines.markersize": 4,
    "pdf.fonttype": 42, "pdf.compression": 6, "path.simplify": False,
}
# No CreationDate: it would make every rebuild differ byte for byte.
PDF_METADATA = {"CreationDate": None, "Creator": "experiments.figures"}


class FigureError(Exception):
    """A figure that cannot be drawn; the message is one line naming the file at fault."""


@dataclass
class FigureData:
    """What the drawing functions need: per-method rounds and the dense network, over seeds."""
    rounds: dict[str, list[dict]]
    dense: dict[str, dict]
    methods: list[str]
    seeds: list[int]


def locate_figure(experiments: dict, name: str, config_file: str | Path) -> tuple[str, dict]:
    """(experiment name, figure spec) of figure ``name``; an undeclared name names the file."""
    try:
        return find_figure(experiments, name)
    except KeyError:
        declared = sorted(fig for cfg in experiments.values() for fig in cfg.get("figures", {}))
        raise FigureError(f"{config_file}: no experiment declares figure {name!r} "
                          f"(declared: {', '.join(declared) or 'none'})") from None


def methods_to_draw(spec: dict, kind_default: list[str] | None, cfg: dict,
                    name: str, config_file: str | Path) -> list[str]:
    """The spec's methods, else the kind's default, else all of the experiment's methods."""
    unknown_keys = sorted(set(spec) - SPEC_KEYS)
    if unknown_keys:
        raise FigureError(f"{config_file}: figure {name!r}: unknown key(s) "
                          f"{', '.join(unknown_keys)} (allowed: {', '.join(sorted(SPEC_KEYS))})")
    methods = spec.get("methods") or kind_default or list(cfg["methods"])
    if not isinstance(methods, list) or not all(isinstance(m, str) for m in methods):
        raise FigureError(f"{config_file}: figure {name!r}: methods must be a list of names")
    unstyled = [method for method in methods if method not in METHOD_STYLES]
    if unstyled:
        raise FigureError(f"{config_file}: figure {name!r}: unknown method(s) "
                          f"{', '.join(unstyled)}")
    return methods


def load_figure_data(rounds_csv: Path, methods: list[str], name: str,
                     config_file: str | Path) -> FigureData:
    """Per-method round statistics and dense statistics from the combined rounds.csv."""
    _, rows = read_rounds(rounds_csv)
    present = {row["method"] for row in rows}
    absent = [method for method in methods if method not in present]
    if absent:
        raise FigureError(f"{config_file}: figure {name!r} draws method(s) {', '.join(absent)} "
                          f"that {rounds_csv} has no rows for")
    dense = dense_rows(rows, sorted(present), rounds_csv)
    dense_stats = {metric: stat([row[metric] for row in dense])
                   for metric in ("test_acc", "early_stop_iter")}
    return FigureData({method: group_rounds(rows, method) for method in methods},
                      dense_stats, methods, sorted({row["seed"] for row in rows}))


def _std_or_zero(entry: dict) -> float:
    return entry["std"] if entry["std"] is not None else 0.0


def plot_metric(ax, data: FigureData, metric: str, scale: float = 1.0) -> None:
    """One line per method (mean, band of +-1 std) and the dense mean as a reference line."""
    for method in data.methods:
        style = METHOD_STYLES[method]
        rounds = data.rounds[method]
        x = [entry["density"] * PERCENT for entry in rounds]
        mean = [entry[metric]["mean"] * scale for entry in rounds]
        spread = [_std_or_zero(entry[metric]) * scale for entry in rounds]
        ax.fill_between(x, [m - s for m, s in zip(mean, spread)],
                        [m + s for m, s in zip(mean, spread)],
                        color=style.color, alpha=0.18, linewidth=0)
        ax.plot(x, mean, color=style.color, marker=style.marker, linestyle=style.linestyle,
                label=style.label)
    ax.axhline(data.dense[metric]["mean"] * scale, label="Dense network", **DENSE_STYLE)
    format_density_axis(ax, data)


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


def format_density_axis(ax, data: FigureData) -> None:
    """Log x axis of percent of weights remaining, running from 100 down to the sparsest round."""
    lowest = min(entry["density"] * PERCENT
                 for rounds in data.rounds.values() for entry in rounds) / 1.08
    ax.set_xscale("log")
    ax.set_xlim(PERCENT * 1.08, lowest)  # reversed limits: density falls to the right
    ax.xaxis.set_major_locator(FixedLocator(density_ticks(lowest)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("Weights remaining (%)")


def _accuracy_panel(ax, data: FigureData) -> None:
    plot_metric(ax, data, "test_acc", scale=PERCENT)
    ax.set_ylabel("Test accuracy at early stop (%)")


def _early_stop_panel(ax, data: FigureData) -> None:
    plot_metric(ax, data, "early_stop_iter")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # iterations are whole numbers
    ax.set_ylabel("Early-stop iteration")


def _two_panels(fig, data: FigureData) -> None:
    """Accuracy and early-stop iteration side by side, one legend for both."""
    left, right = fig.subplots(1, 2)
    _accuracy_panel(left, data)
    _early_stop_panel(right, data)
    left.legend(loc="best", frameon=False)


def draw_accuracy_vs_density(fig, data: FigureData) -> None:
    ax = fig.subplots()
    _accuracy_panel(ax, data)
    ax.legend(loc="best", frameon=False)


def draw_early_stop_vs_density(fig, data: FigureData) -> None:
    ax = fig.subplots()
    _early_stop_panel(ax, data)
    ax.legend(loc="best", frameon=False)


def draw_oneshot_vs_iterative(fig, data: FigureData) -> None:
    _two_panels(fig, data)


def draw_rewind_vs_reset(fig, data: FigureData) -> None:
    _two_panels(fig, data)


@dataclass(frozen=True)
class FigureKind:
    draw: Callable
    default_methods: list[str] | None  # None: all of the experiment's methods


KINDS = {
    "accuracy_vs_density": FigureKind(draw_accuracy_vs_density, None),
    "early_stop_vs_density": FigureKind(draw_early_stop_vs_density, None),
    "oneshot_vs_iterative": FigureKind(draw_oneshot_vs_iterative, ["imp", "oneshot"]),
    "rewind_vs_reset": FigureKind(draw_rewind_vs_reset, ["imp", "imp_rewind"]),
}


def render_pdf(kind: FigureKind, data: FigureData, title: str) -> bytes:
    """The figure as PDF bytes, identical for identical inputs."""
    with matplotlib.rc_context(RC_PARAMS):
        # A bare Figure (not pyplot) so that nothing global is kept between figures.
        fig = Figure(figsize=FIGURE_SIZE_IN, layout="constrained")
        kind.draw(fig, data)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="pdf", metadata={**PDF_METADATA, "Title": title})
    return buffer.getvalue()


def device_of_results(summary_json: Path) -> str:
    """The device recorded by the aggregate step, or "unknown" without a summary."""
    try:
        return json.loads(summary_json.read_text(encoding="utf-8"))["provenance"]["device"]
    except FileNotFoundError:
        return "unknown"
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise FigureError(f"{summary_json}: no readable provenance device ({error})") from None


def make_figure(experiments_file: Path, name: str, results: Path, out: Path) -> None:
    """Look the figure up, draw it to ``out`` and write its provenance beside it."""
    experiments = load_experiment_set(experiments_file)
    experiment, spec = locate_figure(experiments, name, experiments_file)
    cfg = experiments[experiment]
    kind_name = spec.get("kind")
    if kind_name not in KINDS:
        raise FigureError(f"{experiments_file}: figure {name!r}: unknown kind {kind_name!r} "
                          f"(known: {', '.join(KINDS)})")
    kind = KINDS[kind_name]
    methods = methods_to_draw(spec, kind.default_methods, cfg, name, experiments_file)
    rounds_csv, summary_json = results / "rounds.csv", results / "summary.json"
    data = load_figure_data(rounds_csv, methods, name, experiments_file)
    write_bytes(out, render_pdf(kind, data, name))
    sources = [str(rounds_csv)] + ([str(summary_json)] if summary_json.exists() else [])
    provenance = collect_provenance(
        experiment=experiment, rule="figure", config_file=str(experiments_file), config=cfg,
        seeds=data.seeds, device=device_of_results(summary_json))
    provenance.update({"figure": name, "kind": kind_name, "sources": sources})
    write_text(provenance_path(out), json.dumps(provenance, indent=2, allow_nan=False) + "\n")


def provenance_path(pdf: Path) -> Path:
    """figures/NAME.pdf -> figures/NAME.provenance.json"""
    return pdf.with_name(f"{pdf.stem}.provenance.json")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m experiments.figures", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--experiments-file", required=True, type=Path)
    parser.add_argument("--figure", required=True, help="figure name declared in the set")
    parser.add_argument("--results", required=True, type=Path, help="results/EXPERIMENT folder")
    parser.add_argument("--out", required=True, type=Path, help="figures/NAME.pdf")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        make_figure(args.experiments_file, args.figure, args.results, args.out)
    except (FigureError, AggregateError, ConfigError) as error:
        print(f"figures: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
