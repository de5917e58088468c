"""Registry of pruning methods: config name -> method.

Each method (a module, or an object for a family of methods) provides

- ``REQUIRES``: names of methods whose saved state it reads (the trial runs those first),
- ``run_round(trial, round_index) -> (mask, metrics)``: make round ``round_index``'s mask, train
  under it (or evaluate it) and return the mask with ``TrainResult.metrics()``-style metrics (see
  experiments.trial.Trial for what ``trial`` offers). Round 0 is the dense network. A method
  whose training is plain masked training writes ``run_round`` as a generator: ``result = yield
  trial.job(mask, start_weights)`` hands the job to the scheduler (experiments/trials.py), which
  trains it beside the jobs of other methods and seeds and sends back its ``TrainResult``; the
  others train inside ``run_round``, one network at a time;
- optionally ``rounds(cfg) -> list[int]``: the rounds it has rows for (default: all).

Adding a method is one module and one line here, plus its name in the schema's method enum, its
REQUIRES in the schema's ``x-requires`` and its pruning key in ``x-pruning`` (a test checks that
the schema agrees with this registry).
"""

from experiments.methods import (dense, imp, imp_rewind, init_variants, learned_supermask, oneshot,
                                 random_mask, reinit, structured, untrained)
from experiments.supermasks.criteria import CRITERIA

METHODS = {
    "imp": imp,  # iterative magnitude pruning, survivors reset to theta_0
    "imp_rewind": imp_rewind,  # iterative magnitude pruning, survivors rewound to theta_k
    "oneshot": oneshot,  # one magnitude-pruning step from the dense trained net to imp's density
    "reinit": reinit,  # imp's mask, fresh random weights
    "random": random_mask,  # random mask with imp's per-layer counts, theta_0
    "dense": dense,  # the dense network only (round 0), for the structured methods
    # Zhou et al.'s mask criteria on untrained theta_0, one method per criterion
    **{f"untrained_{name}": untrained.method(name) for name in CRITERIA},
    "reshuffle": init_variants.InitVariant("reshuffle"),  # imp's mask, theta_0 permuted in layer
    "signed_constant": init_variants.InitVariant("signed_constant"),  # sign(theta_0) * layer std
    "signed_constant_rescaled": init_variants.InitVariant("signed_constant_rescaled"),
    "bernoulli_supermask": learned_supermask.method("bernoulli"),  # Zhou et al., learned
    "edgepopup": learned_supermask.method("topk"),  # Ramanujan et al., top-k scores on theta_0
    "edgepopup_signed_constant": learned_supermask.method("topk", "signed_constant"),
    # Channel pruning (l1_*, slim_*) and four ways to train the narrow net (Liu et al. 2019)
    **structured.METHODS,
}
