"""Frankle et al. (2021)'s sanity checks of a pruning-at-initialisation method, as controls.

Round r reads the mask the method in role ``pruned`` chose at round r and trains either
- ``control="shuffle"``: that mask randomly permuted within each layer (each layer keeps as many
  weights as the method gave it, at random positions), from theta_0; or
- ``control="reinit"``: that mask on fresh weights (the trial's ``reinit`` seed, as the reinit
  control of the lottery experiments).
If a control matches the method, what the method found is its per-layer densities (shuffle) or
a mask independent of theta_0's values (reinit), not particular weights.
"""

from __future__ import annotations

from experiments.method_api import Method, MethodContext, RoundRun
from experiments.pai import shuffle_within_layers
from experiments.seeding import derive_seed, generator
from experiments.training import state_snapshot

CONTROLS = ("shuffle", "reinit")


class PaIControl(Method):
    roles = ("pruned",)

    def __init__(self, control: str):
        if control not in CONTROLS:
            raise ValueError(f"unknown control {control!r} (known: {', '.join(CONTROLS)})")
        self.control = control

    def rounds(self, round_count: int) -> list[int]:
        return list(range(1, round_count + 1))

    def run_round(self, context: MethodContext, round_index: int) -> RoundRun:
        mask = context.required("pruned").mask(round_index)
        if self.control == "shuffle":
            rng = generator(derive_seed(context.seed, f"shuffle_{context.own.name}", round_index))
            mask = shuffle_within_layers(mask, rng)
            start = context.initial_weights()
        else:
            start = state_snapshot(context.build_model(context.seeds.reinit))
        result = yield context.job(mask, start)
        return mask, result.metrics()
