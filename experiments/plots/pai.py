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
        ax.legend(loc="lower left", frameon=False, fontsize=6.5)
        if index % columns:
            ax.set_ylabel("")
        if index + columns < len(shown):  # a panel below carries the axis label
            ax.set_xlabel("")
    for ax in axes[len(shown):]:
        ax.set_visible(False)
