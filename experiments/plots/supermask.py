"""Figure kinds of the supermask experiments (Zhou et al. 2019; Ramanujan et al. 2020).

* ``untrained_criteria``: masks from each criterion on the untrained initial weights: test
  accuracy against density, with chance (one over the number of classes) and the trained dense
  network as reference lines.
* ``learned_supermasks``: masks learned on frozen weights, against the trained dense network and
  the trained winning ticket.
* ``signs_vs_magnitudes``: the ticket's mask trained from initialisations that keep the signs,
  the magnitudes, both or neither of theta_0.
"""

from __future__ import annotations

from experiments.data.classes import NUM_CLASSES
from experiments.plots.axes import FigureData, accuracy_panel
from experiments.plots.style import CHANCE_STYLE, PERCENT


def _with_chance(fig, data: FigureData, legend: str = "best", columns: int = 2) -> None:
    ax = fig.subplots()
    accuracy_panel(ax, data)
    ax.axhline(PERCENT / NUM_CLASSES, label="Chance", **CHANCE_STYLE)
    ax.legend(loc=legend, frameon=False, ncol=columns)


def draw_untrained_criteria(fig, data: FigureData) -> None:
    _with_chance(fig, data)


def draw_learned_supermasks(fig, data: FigureData) -> None:
    # Learned masks start at the first pruned round: the dense end below the ticket stays empty,
    # where "best" would put the legend over the sparse rounds' lines.
    _with_chance(fig, data, legend="lower left", columns=1)


def draw_signs_vs_magnitudes(fig, data: FigureData) -> None:
    ax = fig.subplots()
    accuracy_panel(ax, data)
    ax.legend(loc="best", frameon=False)
