"""One look for every figure: sizes, fonts, and the colour, marker and line of each method.

Colours are the Okabe-Ito palette; each method also has its own marker and line style so the
figures read in greyscale. A colour repeats across experiment families but never within a figure
that a default experiment set draws.
"""

from __future__ import annotations

from experiments.catalogue import METHODS, OKABE_ITO, MethodStyle

FIGURE_SIZE_IN = (6.0, 3.6)  # thesis column width
PERCENT = 100.0
_C = OKABE_ITO

# Each method's style is part of its catalogue line (experiments/catalogue.py).
METHOD_STYLES: dict[str, MethodStyle] = {name: entry.style for name, entry in METHODS.items()}
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
