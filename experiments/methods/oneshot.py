"""One-shot magnitude pruning: prune the trained dense network (imp's round 0) in a single step
to the weight counts imp's mask has at round r, reset the survivors to theta_0, train.

Comparing it with imp at equal density separates the value of pruning iteratively. With global
scope the pooled layers keep imp's pooled total, spread by magnitude, so per-layer counts may
differ from imp's. Round 0 (density 1) is imp's dense round, reused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from experiments.masks import magnitude_prune_like

if TYPE_CHECKING:
    from experiments.batched_training import RoundRun
    from experiments.trial import Trial

REQUIRES: tuple[str, ...] = ("imp",)


def run_round(trial: Trial, round_index: int) -> RoundRun:
    if round_index == 0:
        return trial.reuse_round("imp", 0)
    dense_trained = trial.state.load_weights("imp", 0)
    target = trial.state.load_mask("imp", round_index)
    pruning = trial.cfg["pruning"]
    mask = magnitude_prune_like(dense_trained, trial.dense_mask(), target, pruning["scope"],
                                trial.kinds)
    result = yield trial.job(mask, trial.initial_weights())
    return mask, result.metrics()
