"""Iterative magnitude pruning with rewinding (Frankle et al., 2019, "Stabilizing the Lottery
Ticket Hypothesis"): like imp, but the survivors restart from theta_k, the dense network's weights
after ``rewind_iteration`` = k steps, instead of theta_0.

Round 0 is imp's round 0 (the same dense network from theta_0 with the same data order), reused
rather than trained twice; imp recorded theta_k during it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from experiments.methods.imp import chain_mask

if TYPE_CHECKING:
    from experiments.batched_training import RoundRun
    from experiments.trial import Trial

REQUIRES: tuple[str, ...] = ("imp",)
NAME = "imp_rewind"


def run_round(trial: Trial, round_index: int) -> RoundRun:
    if round_index == 0:
        return trial.reuse_round("imp", 0)
    mask = chain_mask(trial, NAME, round_index)
    result = yield trial.job(mask, trial.state.load_rewind_weights())
    trial.state.save_weights(NAME, round_index, result.final_weights)
    return mask, result.metrics()
