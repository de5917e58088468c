"""One look for every figure: sizes, fonts, and a fixed colour, marker and line per method.

Colours are the Okabe-Ito palette; each method also has its own marker and line style so the
figures read in greyscale. A colour repeats across experiment families but never within a figure
that a default experiment set draws.
"""

from __future__ import annotations

from dataclasses import dataclass

FIGURE_SIZE_IN = (6.0, 3.6)  # thesis column width
PERCENT = 100.0

OKABE_ITO = {"black": "#000000", "orange": "#E69F00", "sky_blue": "#56B4E9",
             "bluish_green": "#009E73", "yellow": "#F0E442", "blue": "#0072B2",
             "vermillion": "#D55E00", "reddish_purple": "#CC79A7"}
_C = OKABE_ITO
DASHDOT = (0, (5, 1, 1, 1))
LONG_DASH = (0, (6, 2))


@dataclass(frozen=True)
class MethodStyle:
    label: str
    color: str
    marker: str
    linestyle: str | tuple


METHOD_STYLES = {
    "imp": MethodStyle("IMP, reset to init", _C["blue"], "o", "-"),
    "imp_rewind": MethodStyle("IMP, rewind", _C["vermillion"], "s", "--"),
    "oneshot": MethodStyle("One-shot", _C["bluish_green"], "^", "-."),
    "reinit": MethodStyle("Random reinit", _C["orange"], "D", ":"),
    "random": MethodStyle("Random pruning", _C["reddish_purple"], "v", DASHDOT),
    # Re-initialisations of a ticket (with imp and reinit above)
    "reshuffle": MethodStyle("Reshuffled init (magnitudes kept)", _C["sky_blue"], "P", "--"),
    "signed_constant": MethodStyle("Signed constant (signs kept)", _C["vermillion"], "s", "-."),
    "signed_constant_rescaled": MethodStyle("Signed constant, rescaled", _C["bluish_green"], "X",
                                            DASHDOT),
    # Untrained supermasks, one per criterion
    "untrained_large_final": MethodStyle("large final", _C["blue"], "o", "-"),
    "untrained_small_final": MethodStyle("small final", _C["orange"], "v", ":"),
    "untrained_large_init": MethodStyle("large init", _C["sky_blue"], "^", "--"),
    "untrained_large_init_large_final": MethodStyle("large init, large final", _C["bluish_green"],
                                                    "s", "-."),
    "untrained_magnitude_increase": MethodStyle("magnitude increase", _C["vermillion"], "D",
                                                LONG_DASH),
    "untrained_movement": MethodStyle("movement", _C["reddish_purple"], "P", DASHDOT),
    "untrained_random": MethodStyle("random", _C["yellow"], "X", ":"),
    # Learned supermasks on frozen weights
    "bernoulli_supermask": MethodStyle("Learned Bernoulli mask (Zhou)", _C["reddish_purple"], "v",
                                       "--"),
    "edgepopup": MethodStyle("Edge-popup, init weights", _C["bluish_green"], "^", "-."),
    "edgepopup_signed_constant": MethodStyle("Edge-popup, signed constant", _C["vermillion"], "s",
                                             DASHDOT),
    # Structured pruning: colour by how the pruned net is trained
    "l1_finetune": MethodStyle("Fine-tuned", _C["blue"], "o", "-"),
    "l1_ticket": MethodStyle("Ticket init", _C["vermillion"], "s", "--"),
    "l1_scratch_e": MethodStyle("Scratch-E", _C["orange"], "D", ":"),
    "l1_scratch_b": MethodStyle("Scratch-B", _C["bluish_green"], "^", "-."),
    "slim_finetune": MethodStyle("Fine-tuned", _C["blue"], "o", "-"),
    "slim_ticket": MethodStyle("Ticket init", _C["vermillion"], "s", "--"),
    "slim_scratch_e": MethodStyle("Scratch-E", _C["orange"], "D", ":"),
    "slim_scratch_b": MethodStyle("Scratch-B", _C["bluish_green"], "^", "-."),
}
# Below the method lines (zorder 2) so a method that stays at dense accuracy is not hidden.
DENSE_STYLE = {"color": _C["black"], "linestyle": (0, (4, 2)), "linewidth": 0.9, "zorder": 1.5}
CHANCE_STYLE = {"color": "#777777", "linestyle": ":", "linewidth": 0.9, "zorder": 1.5}

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
