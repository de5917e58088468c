"""Figure kind of the pruning-at-initialisation experiment (Frankle et al. 2021's sanity checks).

* ``pai_sanity_checks``: one panel per PaI method (SNIP, GraSP, SynFlow, magnitude at init), each
  with the method, its mask shuffled within each layer, its mask on fresh weights, random pruning
  and the IMP ticket (read from the experiment that runs it, a pooled figure): test accuracy at
  the early-stop iteration against density, mean over seeds with a band of one std.
"""

from __future__ import annotations

from experiments.catalogue import PAI
from experiments.plots.axes import FigureData, accuracy_panel
from experiments.plots.style import METHOD_STYLES

SIZE_IN = (6.0, 5.4)
CONTROLS = ("_shuffled", "_reinit")
REFERENCES = ("pai_random", "imp")


def draw_pai_sanity_checks(fig, data: FigureData) -> None:
    shown = [method for method in PAI if method in data.methods]
    columns = min(len(shown), 2)
    rows = -(-len(shown) // columns)  # ceiling: two panels a row
    axes = fig.subplots(rows, columns, sharey=True, squeeze=False).flatten()
    for index, (ax, method) in enumerate(zip(axes, shown)):
        lines = [name for name in (method, *(method + c for c in CONTROLS), *REFERENCES)
                 if name in data.methods]
        accuracy_panel(ax, data, lines)
        ax.set_title(METHOD_STYLES[method].label)
        if index % columns:
            ax.set_ylabel("")
        if index + columns < len(shown):  # a panel below carries the axis label
            ax.set_xlabel("")
    for ax in axes[len(shown):]:
        ax.set_visible(False)
    shared_legend(fig, axes[0], METHOD_STYLES[shown[0]].label)


def shared_legend(fig, ax, label: str) -> None:
    """One legend below the panels: every panel draws its method and controls alike, so the
    first panel's lines stand for all, its method's name replaced by a generic one."""
    handles, labels = ax.get_legend_handles_labels()
    labels = [text.replace(label, "Panel's method", 1) for text in labels]
    fig.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=7, frameon=False)
