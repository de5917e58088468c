"""The dense network alone: train theta_0 once, with no pruning (round 0 only).

Experiments whose methods prune in their own way (structured pruning) start from it; its trained
weights are kept in the trial state under this method's name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from experiments.batched_training import RoundRun
    from experiments.trial import Trial

REQUIRES: tuple[str, ...] = ()
NAME = "dense"


def rounds(cfg: dict) -> list[int]:
    return [0]


def run_round(trial: Trial, round_index: int) -> RoundRun:
    mask = trial.dense_mask()
    result = yield trial.job(mask, trial.initial_weights())
    trial.state.save_weights(NAME, 0, result.final_weights)
    return mask, result.metrics()
