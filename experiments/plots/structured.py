"""Figure kinds of the structured-pruning experiments (Liu et al. 2019, "Rethinking").

* ``structured_vs_density``: one column per experiment listed in the figure's ``panels`` (the same
  comparison at different learning rates), one row per channel criterion (L1 filter norm,
  network slimming): test accuracy of the narrow network against the weights it keeps, trained by
  fine-tuning, from the ticket's initialisation, and from scratch (Scratch-E, Scratch-B).
"""

from __future__ import annotations

from experiments.plots.axes import FigureData, accuracy_panel

FAMILIES = {"l1": "L1 filter norm", "slim": "Network slimming"}
VARIANTS = ("finetune", "ticket", "scratch_e", "scratch_b")
SIZE_IN = (6.0, 5.2)


def family_methods(data: FigureData, family: str) -> list[str]:
    return [f"{family}_{variant}" for variant in VARIANTS if f"{family}_{variant}" in data.rounds]


def draw_structured_vs_density(fig, panels: dict[str, FigureData]) -> None:
    families = [f for f in FAMILIES if any(family_methods(d, f) for d in panels.values())]
    axes = fig.subplots(len(families), len(panels), squeeze=False, sharey="row")
    for column, data in enumerate(panels.values()):
        lr = data.training_lr
        for row, family in enumerate(families):
            ax = axes[row][column]
            accuracy_panel(ax, data, family_methods(data, family))
            ax.set_title(f"{FAMILIES[family]}, learning rate {lr:g}")
            if column:
                ax.set_ylabel("")
            if row < len(families) - 1:
                ax.set_xlabel("")
    axes[0][0].legend(loc="lower left", frameon=False)
