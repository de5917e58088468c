"""Registry of pruning methods: config name -> module.

Each method module provides

- ``REQUIRES``: names of methods whose saved state it reads (the trial runs those first), and
- ``run_round(trial, round_index) -> (mask, metrics)``: make round ``round_index``'s mask, train
  under it and return the mask with ``TrainResult.metrics()`` (see experiments.trial.Trial for
  what ``trial`` offers). Round 0 is the dense network.

Adding a method is one module and one line here, plus its name in the schema's method enum and
its REQUIRES in the schema's ``x-requires`` (a test checks both agree with this registry).
"""

from experiments.methods import imp, imp_rewind, oneshot, random_mask, reinit

METHODS = {
    "imp": imp,  # iterative magnitude pruning, survivors reset to theta_0
    "imp_rewind": imp_rewind,  # iterative magnitude pruning, survivors rewound to theta_k
    "oneshot": oneshot,  # one magnitude-pruning step from the dense trained net to imp's density
    "reinit": reinit,  # imp's mask, fresh random weights
    "random": random_mask,  # random mask with imp's per-layer counts, theta_0
}
