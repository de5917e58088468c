"""The catalogue: every pruning method and figure kind, one line each, importable without torch.

The workflow reads it at parse time (config checks, job planning), so it imports nothing heavy.
Everything else about a method is derived from its line here:

- the experiment schema's method list (``experiments.config.load_schema`` adds it),
- which methods run first and whose results it reads (``requires``: role -> method),
- which ``pruning`` key its schedule comes from and which experiment keys it needs,
- its line colour, marker and dash in every figure (``experiments/plots/style.py``),
- the method table of README.md (``python -m experiments.catalogue`` prints it; a test compares).

The implementation is a ``experiments.method_api.Method`` subclass named by ``implementation``
(``module:Class``), constructed with ``options``. Adding a method is its module plus one line in
``METHODS`` below.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

# Okabe-Ito colours: distinguishable with every common colour-vision deficiency.
OKABE_ITO = {"black": "#000000", "orange": "#E69F00", "sky_blue": "#56B4E9",
             "bluish_green": "#009E73", "yellow": "#F0E442", "blue": "#0072B2",
             "vermillion": "#D55E00", "reddish_purple": "#CC79A7"}
BLACK, ORANGE, SKY_BLUE, BLUISH_GREEN, YELLOW, BLUE, VERMILLION, PURPLE = OKABE_ITO.values()
DASHDOT = (0, (5, 1, 1, 1))
LONG_DASH = (0, (6, 2))
# The pruning keys a method's schedule can come from (None: the method prunes nothing).
PRUNING_KEYS = ("rates", "channel_ratios")


@dataclass(frozen=True)
class MethodStyle:
    """How figures draw a method: legend label, colour, marker and line style."""

    label: str
    color: str
    marker: str
    linestyle: str | tuple


@dataclass(frozen=True)
class MethodEntry:
    """One method: what the workflow, the config checks and the figures know about it."""

    name: str
    implementation: str  # "module:Class", a experiments.method_api.Method subclass
    style: MethodStyle
    about: str  # one line, for the README's table
    requires: Mapping[str, str] = field(default_factory=dict)  # role -> method run before it
    pruning: str | None = "rates"  # the pruning key its schedule reads
    needs: tuple[str, ...] = ()  # experiment keys it cannot run without
    options: Mapping[str, str] = field(default_factory=dict)  # passed to the class

    def __post_init__(self) -> None:
        if self.pruning not in PRUNING_KEYS + (None,):
            raise ValueError(f"method {self.name}: pruning must be one of {PRUNING_KEYS} or None")
        # Frozen mappings: the catalogue is shared by every caller of the process.
        object.__setattr__(self, "requires", MappingProxyType(dict(self.requires)))
        object.__setattr__(self, "options", MappingProxyType(dict(self.options)))


TICKET = {"ticket": "imp"}  # methods that reuse imp's masks, dense run or theta_k
DENSE = {"trained_dense": "dense"}  # L1 filter pruning starts from the dense method's network
M = "experiments.methods."


def _untrained(criterion: str, label: str, color: str, marker: str, dash) -> MethodEntry:
    return MethodEntry(f"untrained_{criterion}", M + "untrained:UntrainedCriterion",
                       MethodStyle(label, color, marker, dash),
                       f"Zhou et al.'s {label!r} mask on the untrained theta_0, not trained",
                       TICKET, options={"criterion": criterion})


def _structured(family: str, variant: str, label: str, color: str, marker: str, dash,
                about: str) -> MethodEntry:
    return MethodEntry(f"{family}_{variant}", M + "structured:StructuredMethod",
                       MethodStyle(label, color, marker, dash), about,
                       DENSE if family == "l1" else {}, "channel_ratios",
                       options={"family": family, "variant": variant})


def _pai_controls(method: str, label: str) -> tuple[MethodEntry, ...]:
    """Frankle et al. (2021)'s two sanity checks of the PaI method ``method``, one line each."""
    return (MethodEntry(f"{method}_shuffled", M + "pai_control:PaIControl",
                        MethodStyle(f"{label}, shuffled in layers", ORANGE, "D", "--"),
                        f"{label}'s mask shuffled within each layer, from theta_0",
                        {"pruned": method}, options={"control": "shuffle"}),
            MethodEntry(f"{method}_reinit", M + "pai_control:PaIControl",
                        MethodStyle(f"{label}, reinitialised", SKY_BLUE, "^", ":"),
                        f"{label}'s mask on fresh random weights", {"pruned": method},
                        options={"control": "reinit"}))


L1, SLIM = "L1 filters (Li et al.)", "slimming (Liu et al.)"
METHODS: dict[str, MethodEntry] = {entry.name: entry for entry in (
    MethodEntry("imp", M + "imp:IterativeMagnitude", MethodStyle("IMP, reset to init", BLUE, "o", "-"),
                "iterative magnitude pruning, survivors reset to theta_0 (Frankle & Carbin)"),
    MethodEntry("imp_rewind", M + "imp_rewind:RewoundIterativeMagnitude",
                MethodStyle("IMP, rewind", VERMILLION, "s", "--"),
                "iterative magnitude pruning, survivors rewound to theta_k (Frankle et al.)",
                TICKET, needs=("rewind_iteration",)),
    MethodEntry("oneshot", M + "oneshot:OneShot", MethodStyle("One-shot", BLUISH_GREEN, "^", "-."),
                "one magnitude-pruning step from the dense trained net to imp's counts", TICKET),
    MethodEntry("reinit", M + "reinit:Reinit", MethodStyle("Random reinit", ORANGE, "D", ":"),
                "imp's mask on fresh random weights", TICKET),
    MethodEntry("random", M + "random_mask:RandomMask",
                MethodStyle("Random pruning", PURPLE, "v", DASHDOT),
                "a random mask with imp's per-layer counts, on theta_0", TICKET),
    MethodEntry("lmc", M + "lmc:LinearModeConnectivity",
                MethodStyle("Linear mode connectivity", SKY_BLUE, "P", "-"),
                "two copies from theta_k, other data orders: error along the line between them",
                {"ticket": "imp", "rewound": "imp_rewind"}, needs=("rewind_iteration",)),
    MethodEntry("ticket_anatomy", M + "anatomy:TicketAnatomy",
                MethodStyle("Ticket anatomy", BLUE, "o", "-"),
                "measures imp's masks (first-layer profile, overlap with oneshot, theta_0 of "
                "kept vs pruned); no training", {"ticket": "imp", "one_shot": "oneshot"}),
    MethodEntry("dense", M + "dense:Dense", MethodStyle("Dense", BLACK, "o", "-"),
                "the dense network only (round 0), for the structured methods", pruning=None),
    _untrained("large_final", "large final", BLUE, "o", "-"),
    _untrained("small_final", "small final", ORANGE, "v", ":"),
    _untrained("large_init", "large init", SKY_BLUE, "^", "--"),
    _untrained("large_init_large_final", "large init, large final", BLUISH_GREEN, "s", "-."),
    _untrained("magnitude_increase", "magnitude increase", VERMILLION, "D", LONG_DASH),
    _untrained("movement", "movement", PURPLE, "P", DASHDOT),
    _untrained("random", "random", YELLOW, "X", ":"),
    MethodEntry("reshuffle", M + "init_variants:InitVariant",
                MethodStyle("Reshuffled init (magnitudes kept)", SKY_BLUE, "P", "--"),
                "imp's mask, theta_0 permuted within each layer", TICKET,
                options={"kind": "reshuffle"}),
    MethodEntry("signed_constant", M + "init_variants:InitVariant",
                MethodStyle("Signed constant (signs kept)", VERMILLION, "s", "-."),
                "imp's mask, weights sign(theta_0) times the layer's std", TICKET,
                options={"kind": "signed_constant"}),
    MethodEntry("signed_constant_rescaled", M + "init_variants:InitVariant",
                MethodStyle("Signed constant, rescaled", BLUISH_GREEN, "X", DASHDOT),
                "signed constant times the layer's size / kept count", TICKET,
                options={"kind": "signed_constant_rescaled"}),
    MethodEntry("bernoulli_supermask", M + "learned_supermask:LearnedSupermask",
                MethodStyle("Learned Bernoulli mask (Zhou)", PURPLE, "v", "--"),
                "a Bernoulli mask learned on frozen theta_0 (Zhou et al.)", TICKET,
                options={"style": "bernoulli", "weights": "init"}),
    MethodEntry("edgepopup", M + "learned_supermask:LearnedSupermask",
                MethodStyle("Edge-popup, init weights", BLUISH_GREEN, "^", "-."),
                "top-k learned scores on frozen theta_0 (Ramanujan et al.)", TICKET,
                options={"style": "topk", "weights": "init"}),
    MethodEntry("edgepopup_signed_constant", M + "learned_supermask:LearnedSupermask",
                MethodStyle("Edge-popup, signed constant", VERMILLION, "s", DASHDOT),
                "edge-popup on signed-constant weights", TICKET,
                options={"style": "topk", "weights": "signed_constant"}),
    # Structured pruning: colour by how the narrow network is trained.
    _structured("l1", "finetune", "Fine-tuned", BLUE, "o", "-", f"{L1}, fine-tuned"),
    _structured("l1", "ticket", "Ticket init", VERMILLION, "s", "--", f"{L1}, from theta_0"),
    _structured("l1", "scratch_e", "Scratch-E", ORANGE, "D", ":", f"{L1}, from scratch"),
    _structured("l1", "scratch_b", "Scratch-B", BLUISH_GREEN, "^", "-.",
                f"{L1}, from scratch for the dense net's FLOPs"),
    _structured("slim", "finetune", "Fine-tuned", BLUE, "o", "-", f"{SLIM}, fine-tuned"),
    _structured("slim", "ticket", "Ticket init", VERMILLION, "s", "--", f"{SLIM}, from theta_0"),
    _structured("slim", "scratch_e", "Scratch-E", ORANGE, "D", ":", f"{SLIM}, from scratch"),
    _structured("slim", "scratch_b", "Scratch-B", BLUISH_GREEN, "^", "-.",
                f"{SLIM}, from scratch for the dense net's FLOPs"),
    # Pruning at initialisation (global scope), each with Frankle et al. (2021)'s controls.
    MethodEntry("snip", M + "snip:Snip", MethodStyle("SNIP", VERMILLION, "s", "-"),
                "SNIP: top abs(g * w) at theta_0 over all layers, then trained (Lee et al.)"),
    *_pai_controls("snip", "SNIP"),
    MethodEntry("grasp", M + "grasp:Grasp", MethodStyle("GraSP", VERMILLION, "s", "-"),
                "GraSP: remove top -w * Hg at theta_0 over all layers (Wang et al.)"),
    *_pai_controls("grasp", "GraSP"),
    MethodEntry("synflow", M + "synflow:SynFlow", MethodStyle("SynFlow", VERMILLION, "s", "-"),
                "SynFlow: data-free iterative synaptic flow at theta_0 (Tanaka et al.)"),
    *_pai_controls("synflow", "SynFlow"),
    MethodEntry("magnitude_init", M + "magnitude_init:MagnitudeAtInit",
                MethodStyle("Magnitude at init", VERMILLION, "s", "-"),
                "top abs(theta_0) over all layers, trained from theta_0"),
    *_pai_controls("magnitude_init", "Magnitude at init"),
    MethodEntry("pai_random", M + "pai_random:RandomAtInit",
                MethodStyle("Random, uniform over layers", PURPLE, "X", DASHDOT),
                "a uniformly random mask over all layers at the schedule's count, from theta_0"),
    # Tickets found early, and sparse training without a ticket (issue 15).
    MethodEntry("early_bird", M + "early_bird:EarlyBird",
                MethodStyle("Early-bird ticket", ORANGE, "D", "--"),
                "magnitude mask drawn during dense training once successive masks agree, trained "
                "on from the weights there (You et al.)", TICKET, needs=("early_bird",)),
    MethodEntry("rigl", M + "rigl:RigL", MethodStyle("RigL", BLUISH_GREEN, "^", "-."),
                "sparse training from a random ERK mask, dropping by magnitude and growing by "
                "gradient (Evci et al.)", TICKET, needs=("rigl",)),
    MethodEntry("static_sparse", M + "static_sparse:StaticSparse",
                MethodStyle("Static sparse (random ERK)", PURPLE, "v", ":"),
                "rigl's random ERK mask on theta_0, trained without changing it", TICKET),
    MethodEntry("deep_compression", M + "deep_compression:DeepCompression",
                MethodStyle("Pruned, retrained (Han)", BLUE, "o", "-"),
                "magnitude-pruned trained net, retrained; k-means sharing, Huffman, SZ3/ZFP "
                "(Han et al.; Jin et al.)", TICKET, needs=("compression",),
                options={"source": "retrain"}),
    MethodEntry("deep_compression_ticket", M + "deep_compression:DeepCompression",
                MethodStyle("IMP ticket", VERMILLION, "s", "--"),
                "imp's trained ticket through the same compression stages", TICKET,
                needs=("compression",), options={"source": "ticket"}),
)}


@dataclass(frozen=True)
class FigureKind:
    """What the config checks need of a figure kind; experiments/figures.py draws it."""

    default_methods: tuple[str, ...] | None  # None: all of the experiment's methods
    panels: bool = False  # one panel per experiment of the spec's ``panels``
    # With panels: the spec's experiments are pooled into one drawing, each method read from
    # the first of them that runs it (a reference method from another experiment).
    pooled: bool = False


UNTRAINED = tuple(name for name in METHODS if name.startswith("untrained_"))
PAI = ("snip", "grasp", "synflow", "magnitude_init")
PAI_FIGURE = (*(f"{m}{suffix}" for m in PAI for suffix in ("", "_shuffled", "_reinit")),
              "pai_random", "imp")
FIGURE_KINDS: dict[str, FigureKind] = {
    "accuracy_vs_density": FigureKind(None),
    "early_stop_vs_density": FigureKind(None),
    "oneshot_vs_iterative": FigureKind(("imp", "oneshot")),
    "rewind_vs_reset": FigureKind(("imp", "imp_rewind")),
    "untrained_criteria": FigureKind(UNTRAINED),
    "learned_supermasks": FigureKind(("imp", "bernoulli_supermask", "edgepopup",
                                      "edgepopup_signed_constant")),
    "signs_vs_magnitudes": FigureKind(("imp", "signed_constant", "signed_constant_rescaled",
                                       "reshuffle", "reinit")),
    "structured_vs_density": FigureKind(None, panels=True),
    "lr_panels": FigureKind(("imp", "reinit"), panels=True),
    "lmc_vs_rewind": FigureKind(("lmc",), panels=True),
    "ticket_anatomy": FigureKind(("ticket_anatomy",)),
    "pai_sanity_checks": FigureKind(PAI_FIGURE, panels=True, pooled=True),
    "early_bird_distance": FigureKind(("early_bird",)),
    "compression_tradeoff": FigureKind(("deep_compression", "deep_compression_ticket")),
}
# Keys a figure spec may have.
FIGURE_SPEC_KEYS = ("kind", "methods", "panels")


def required_methods(name: str) -> list[str]:
    """The methods ``name`` reads results of, in the order its line gives them."""
    return list(METHODS[name].requires.values())


def readme_table() -> str:
    """The README's method table (markdown), one row per catalogue line."""
    lines = ["| method | what it does | needs | schedule |", "|---|---|---|---|"]
    for entry in METHODS.values():
        needs = ", ".join(f"`{m}`" for m in entry.requires.values()) or "-"
        schedule = f"`pruning.{entry.pruning}`" if entry.pruning else "-"
        lines.append(f"| `{entry.name}` | {entry.about} | {needs} | {schedule} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(readme_table())
