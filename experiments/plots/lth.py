"""Figure kinds of the lottery-ticket experiments: accuracy and early stopping against density."""

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
