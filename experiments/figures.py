"""Figures drawn from an experiment's combined ``rounds.csv``, one function per kind of figure.

Command line (the ``figure`` rule calls it)::

    python -m experiments.figures --experiments-file F --figure NAME --results results/E \
        --out figures/NAME.pdf [--log FILE]

writes the vector PDF and, beside it, ``figures/NAME.provenance.json``: the provenance block
(rule ``"figure"``) plus ``"figure"``, ``"kind"`` and ``"sources"`` (the files read).  The device
recorded is the one in ``results/E/summary.json``'s provenance when that file exists.

A figure is declared in the experiment set under the experiment it is drawn from::

    figures:
      lth_accuracy: {kind: accuracy_vs_density, methods: [imp, reinit, random]}

Keys of a figure spec: ``kind`` (one of ``KINDS``) and optionally ``methods`` (which methods to
draw, in legend order; each kind has a default) and ``panels``.  Each kind's name, default methods
and whether it has panels are in experiments/catalogue.py, and the spec is checked there, when the
experiment set loads (experiments/config.py); this module only draws.  Kinds:

* ``accuracy_vs_density``: test accuracy at the early-stop iteration against percent of weights
  remaining (log axis running from 100 down), one line per method, mean over seeds with a band of
  plus or minus one standard deviation, the dense network's mean as a dashed reference line.
* ``early_stop_vs_density``: the early-stop iteration, drawn the same way.
* ``oneshot_vs_iterative``: imp against oneshot, accuracy and early-stop iteration side by side.
* ``rewind_vs_reset``: imp (reset to initialisation) against imp_rewind, the same two panels.
* ``lr_panels``: the same comparison in several experiments (learning rates), one column each.
* ``lmc_vs_rewind``: the lmc method over experiments that differ in the rewind step k
  (experiments/plots/lmc.py).
* ``ticket_anatomy``: the ticket_anatomy method's measurements of imp's masks against chance
  (experiments/plots/anatomy.py).
* ``pai_sanity_checks``: pruning at initialisation and its sanity checks, one panel per method,
  with the IMP ticket from the experiment that runs it (experiments/plots/pai.py). A *pooled*
  kind: its ``panels`` are experiments whose methods are drawn together.
* ``early_bird_distance``: the early_bird method's mask distance against the training step, one
  curve per density, with the threshold and the draw steps (experiments/plots/early_bird.py).
* ``compression_tradeoff``: accuracy against compression ratio of the deep-compression methods'
  sparsest network: SZ3 and ZFP bounds as curves, k-means bit widths as points
  (experiments/plots/compression.py).

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

from experiments.aggregate import dense_rows, group_rounds, stat
from experiments.rounds import AggregateError, read_rounds
from experiments.atomic import write_all
from experiments.catalogue import FIGURE_KINDS
from experiments.config import ConfigError, find_figure, load_experiment_set
from experiments.console import Console, guarded
from experiments.plots import (anatomy, compression, early_bird, lmc, lth, pai, structured,
                                supermask)
from experiments.plots.axes import FigureData, density_ticks  # noqa: F401 (tests use density_ticks)
from experiments.plots.style import FIGURE_SIZE_IN, PDF_METADATA, RC_PARAMS
from experiments.provenance import collect_provenance

class FigureError(Exception):
    """A figure that cannot be drawn; the message is one line naming the file at fault."""


def locate_figure(experiments: dict, name: str, config_file: str | Path) -> tuple[str, dict]:
    """(experiment name, figure spec) of figure ``name``; an undeclared name names the file."""
    try:
        return find_figure(experiments, name)
    except KeyError:
        declared = sorted(fig for cfg in experiments.values() for fig in cfg.get("figures", {}))
        raise FigureError(f"{config_file}: no experiment declares figure {name!r} "
                          f"(declared: {', '.join(declared) or 'none'})") from None


def methods_to_draw(spec: dict, cfg: dict) -> list[str]:
    """The spec's methods, else the kind's default, else all of the experiment's methods."""
    return list(spec.get("methods") or FIGURE_KINDS[spec["kind"]].default_methods
                or cfg["methods"])


def load_figure_data(rounds_csv: Path, methods: list[str], name: str,
                     config_file: str | Path, cfg: dict) -> FigureData:
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
                      dense_stats, methods, sorted({row["seed"] for row in rows}),
                      training_lr=cfg["training"]["lr"],
                      rewind_iteration=cfg.get("rewind_iteration"), rows=rows,
                      early_bird_threshold=cfg.get("early_bird", {}).get("threshold"))


def load_pooled_data(root: Path, experiment: str, sources: list[str], methods: list[str],
                     name: str, config_file: str | Path, experiments: dict) -> FigureData:
    """One drawing's data from several experiments: each method's rounds from the first of
    ``sources`` (the declaring ``experiment`` first) that runs it; the rest of the declaring
    experiment's."""
    order = [experiment] + [source for source in sources if source != experiment]
    parts, taken = {}, set()
    for source in order:
        here = [m for m in methods if m in experiments[source]["methods"] and m not in taken]
        taken.update(here)
        parts[source] = load_figure_data(root / source / "rounds.csv", here, name, config_file,
                                         experiments[source])
    own = parts[experiment]
    own.rounds = {m: rounds for part in parts.values() for m, rounds in part.rounds.items()}
    own.methods = methods
    return own


@dataclass(frozen=True)
class FigureDrawing:
    """How a kind of figure is drawn (what it draws is in its catalogue line)."""

    draw: Callable
    size_in: tuple[float, float] = FIGURE_SIZE_IN


# One entry per kind of experiments/catalogue.py's FIGURE_KINDS (a test checks both agree).
KINDS = {
    "accuracy_vs_density": FigureDrawing(lth.draw_accuracy_vs_density),
    "early_stop_vs_density": FigureDrawing(lth.draw_early_stop_vs_density),
    "oneshot_vs_iterative": FigureDrawing(lth.draw_oneshot_vs_iterative),
    "rewind_vs_reset": FigureDrawing(lth.draw_rewind_vs_reset),
    "untrained_criteria": FigureDrawing(supermask.draw_untrained_criteria),
    "learned_supermasks": FigureDrawing(supermask.draw_learned_supermasks),
    "signs_vs_magnitudes": FigureDrawing(supermask.draw_signs_vs_magnitudes),
    "structured_vs_density": FigureDrawing(structured.draw_structured_vs_density,
                                           size_in=structured.SIZE_IN),
    "lr_panels": FigureDrawing(lth.draw_lr_panels, size_in=structured.SIZE_IN),
    "lmc_vs_rewind": FigureDrawing(lmc.draw_lmc_vs_rewind, size_in=lmc.SIZE_IN),
    "ticket_anatomy": FigureDrawing(anatomy.draw_ticket_anatomy, size_in=anatomy.SIZE_IN),
    "pai_sanity_checks": FigureDrawing(pai.draw_pai_sanity_checks, size_in=pai.SIZE_IN),
    "early_bird_distance": FigureDrawing(early_bird.draw_early_bird_distance),
    "compression_tradeoff": FigureDrawing(compression.draw_compression_tradeoff,
                                          size_in=compression.SIZE_IN),
}


def render_pdf(kind: FigureDrawing, data: FigureData, title: str) -> bytes:
    """The figure as PDF bytes, identical for identical inputs."""
    with matplotlib.rc_context(RC_PARAMS):
        # A bare Figure (not pyplot) so that nothing global is kept between figures.
        fig = Figure(figsize=kind.size_in, layout="constrained")
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


def make_figure(experiments_file: Path, name: str, results: Path, out: Path,
                log=lambda line: None) -> None:
    """Look the figure up, draw it to ``out`` and write its provenance beside it.

    ``results`` is the declaring experiment's folder; a kind with panels reads the folders of
    the spec's ``panels`` experiments beside it.
    """
    experiments = load_experiment_set(experiments_file)  # checks every figure spec
    experiment, spec = locate_figure(experiments, name, experiments_file)
    cfg, kind_name = experiments[experiment], spec["kind"]
    methods = methods_to_draw(spec, cfg)
    has_panels = FIGURE_KINDS[kind_name].panels
    sources = spec.get("panels", [experiment]) if has_panels else [experiment]
    pooled = FIGURE_KINDS[kind_name].pooled
    if pooled:
        panels = {experiment: load_pooled_data(results.parent, experiment, sources, methods,
                                               name, experiments_file, experiments)}
    else:
        panels = {source: load_figure_data(results.parent / source / "rounds.csv", methods,
                                           name, experiments_file, experiments[source])
                  for source in sources}
    drawn = panels if has_panels and not pooled else panels[experiment]
    pdf = render_pdf(KINDS[kind_name], drawn, name)
    summary_json = results / "summary.json"
    files = [str(results.parent / source / "rounds.csv") for source in sources]
    files += [str(summary_json)] if summary_json.exists() else []
    provenance = collect_provenance(
        experiment=experiment, rule="figure", config_file=str(experiments_file), config=cfg,
        seeds=panels[experiment].seeds, device=device_of_results(summary_json))
    provenance.update({"figure": name, "kind": kind_name, "sources": files})
    record = json.dumps(provenance, indent=2, allow_nan=False) + "\n"
    # Both or neither: a figure never sits beside another drawing's provenance.
    write_all([(out, pdf), (provenance_path(out), record.encode("utf-8"))])
    log(f"figures: {name} ({kind_name}) from {', '.join(files)} -> {out}")


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
    parser.add_argument("--log", type=Path, default=None, metavar="FILE",
                        help="detail (and library warnings) goes to FILE; stderr gets errors only")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Exit status 0 done, 1 bad input or a file that cannot be read or written (one line)."""
    args = parse_args(argv)
    console = Console("figures")

    def body() -> int:
        console.open_log(args.log)
        make_figure(args.experiments_file, args.figure, args.results, args.out, console.log)
        return 0

    return guarded(console, body, (FigureError, AggregateError, ConfigError), 1)


if __name__ == "__main__":
    sys.exit(main())
