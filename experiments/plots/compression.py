"""Figure kind ``compression_tradeoff``: test accuracy against compression ratio of the sparsest
compressed network, one panel per method (Han et al.'s pruned and retrained net; imp's ticket).

In each panel: SZ3 and ZFP as curves over their error bounds (the loosest bound at the highest
ratio), k-means sharing with Huffman coding as points labelled with their bit width, the pruned
network before quantisation (32-bit values, relative index) as a cross, and the dense network's
accuracy as a dashed line. Error bars: one standard deviation over seeds, on both axes.
Ratios count the pruned layers' bits (experiments/compression/stages.py); the x axis is log.
"""

from __future__ import annotations

import re

from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

from experiments.plots.axes import FigureData, std_or_zero
from experiments.plots.style import DENSE_STYLE, METHOD_STYLES, OKABE_ITO, PERCENT

SIZE_IN = (6.0, 3.4)
CODECS = {"sz3": ("SZ3, error bound", OKABE_ITO["blue"], "o", "-"),
          "zfp": ("ZFP, tolerance", OKABE_ITO["bluish_green"], "^", "--")}
KMEANS_COLOUR = OKABE_ITO["vermillion"]
RATIO_TICKS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


def _errorbar(ax, entry: dict, prefixes: list[str], **style) -> None:
    ratios = [entry[f"{p}_ratio"] for p in prefixes]
    accs = [entry[f"{p}_acc"] for p in prefixes]
    ax.errorbar([r["mean"] for r in ratios], [PERCENT * a["mean"] for a in accs],
                xerr=[std_or_zero(r) for r in ratios],
                yerr=[PERCENT * std_or_zero(a) for a in accs], capsize=2, **style)


def _codec_prefixes(entry: dict, codec: str) -> list[str]:
    """``dc_<codec>_<bound>`` of every bound the entry has, by increasing ratio."""
    found = {match.group(1) for key in entry
             if (match := re.fullmatch(rf"(dc_{codec}_\d+em?\d+)_ratio", key))}
    return sorted(found, key=lambda prefix: entry[f"{prefix}_ratio"]["mean"])


def _bit_widths(entry: dict) -> list[int]:
    return sorted(int(match.group(1)) for key in entry
                  if (match := re.fullmatch(r"dc_h(\d+)_ratio", key)))


def _panel(ax, entry: dict, title: str) -> None:
    ax.axhline(PERCENT * entry["dc_dense_acc"]["mean"], label="dense, 32-bit", **DENSE_STYLE)
    ax.errorbar([entry["dc_pruned_ratio"]["mean"]], [PERCENT * entry["dc_pruned_acc"]["mean"]],
                yerr=[PERCENT * std_or_zero(entry["dc_pruned_acc"])], color="black", marker="x",
                linestyle="none", capsize=2, label="pruned, 32-bit values")
    for codec, (label, colour, marker, dash) in CODECS.items():
        _errorbar(ax, entry, _codec_prefixes(entry, codec), color=colour, marker=marker,
                  linestyle=dash, label=label)
    bits = _bit_widths(entry)
    points = {"ratio": [entry[f"dc_h{b}_ratio"] for b in bits],
              "acc": [entry[f"dc_q{b}_acc"] for b in bits]}
    ax.errorbar([r["mean"] for r in points["ratio"]], [PERCENT * a["mean"] for a in points["acc"]],
                xerr=[std_or_zero(r) for r in points["ratio"]],
                yerr=[PERCENT * std_or_zero(a) for a in points["acc"]], color=KMEANS_COLOUR,
                marker="s", linestyle="none", capsize=2, label="k-means + Huffman, bits")
    for b, ratio, acc in zip(bits, points["ratio"], points["acc"]):
        ax.annotate(str(b), (ratio["mean"], PERCENT * acc["mean"]), textcoords="offset points",
                    xytext=(3, -9), fontsize=7, color=KMEANS_COLOUR)
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(FixedLocator(RATIO_TICKS))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}x"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("Compression ratio of the weights")
    ax.set_title(title)


def draw_compression_tradeoff(fig, data: FigureData) -> None:
    axes = fig.subplots(1, len(data.methods), sharey=True, squeeze=False)[0]
    for ax, method in zip(axes, data.methods):
        entry = [e for e in data.rounds[method] if "dc_pruned_ratio" in e][-1]  # sparsest
        _panel(ax, entry, f"{METHOD_STYLES[method].label}, {PERCENT * entry['density']:.1f}% "
                          "of weights")
    axes[0].set_ylabel("Test accuracy, final weights (%)")
    axes[0].legend(loc="lower left", frameon=False)
