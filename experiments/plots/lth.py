"""Figure kinds of the lottery-ticket experiments: accuracy and early stopping against density.

* ``lr_panels`` (Liu et al. 2019, Section 6): one column per experiment of the spec's ``panels``
  (the same ticket-against-re-initialisation comparison at different learning rates), accuracy
  above and early-stop iteration below.
"""

from __future__ import annotations

from experiments.plots.axes import FigureData, accuracy_panel, early_stop_panel


def _two_panels(fig, data: FigureData) -> None:
    """Accuracy and early-stop iteration side by side, one legend for both."""
    left, right = fig.subplots(1, 2)
    accuracy_panel(left, data)
    early_stop_panel(right, data)
    left.legend(loc="best", frameon=False)


def draw_accuracy_vs_density(fig, data: FigureData) -> None:
    ax = fig.subplots()
    accuracy_panel(ax, data)
    ax.legend(loc="best", frameon=False)


def draw_early_stop_vs_density(fig, data: FigureData) -> None:
    ax = fig.subplots()
    early_stop_panel(ax, data)
    ax.legend(loc="best", frameon=False)


def draw_oneshot_vs_iterative(fig, data: FigureData) -> None:
    _two_panels(fig, data)


def draw_rewind_vs_reset(fig, data: FigureData) -> None:
    _two_panels(fig, data)


def draw_lr_panels(fig, panels: dict[str, FigureData]) -> None:
    axes = fig.subplots(2, len(panels), squeeze=False, sharey="row")
    for column, data in enumerate(panels.values()):
        accuracy_panel(axes[0][column], data)
        early_stop_panel(axes[1][column], data)
        axes[0][column].set_title(f"learning rate {data.training_lr:g}")
        axes[0][column].set_xlabel("")
        if column:
            axes[0][column].set_ylabel("")
            axes[1][column].set_ylabel("")
    axes[0][0].legend(loc="lower left", frameon=False)
