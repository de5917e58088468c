"""Iterative magnitude pruning with resetting (Frankle & Carbin, 2019): train, remove the smallest
``rate`` of the still-kept weights, reset the survivors to the initial weights theta_0, repeat.

Round 0 trains the dense network from theta_0; its trained weights are kept in the trial state
for the methods that start from them (oneshot, imp_rewind), and when the experiment sets
``rewind_iteration`` k its weights after k steps (theta_k) are kept for imp_rewind.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from experiments.masks import Mask

if TYPE_CHECKING:
    from experiments.batched_training import RoundRun
    from experiments.trial import Trial

REQUIRES: tuple[str, ...] = ()
NAME = "imp"


def run_round(trial: Trial, round_index: int) -> RoundRun:
    mask = chain_mask(trial, NAME, round_index)
    rewind = trial.cfg.get("rewind_iteration") if round_index == 0 else None
    result = yield trial.job(mask, trial.initial_weights(), snapshot_iteration=rewind)
    if result.snapshot is not None:
        trial.state.save_rewind_weights(result.snapshot)
    trial.state.save_weights(NAME, round_index, result.final_weights)
    return mask, result.metrics()


def chain_mask(trial: Trial, method: str, round_index: int) -> Mask:
    """Mask of round ``round_index`` of an iterative chain (imp or imp_rewind).

    Dense at round 0; afterwards the previous round's mask pruned by the magnitudes of the
    previous round's trained weights. Round 0 of every chain is imp's dense run. The new mask is
    saved before training, so a rerun after a crash finds it even once the weights it was pruned
    from have been deleted (only the latest round's trained weights are kept, and round 0's).
    """
    if round_index == 0:
        return trial.dense_mask()
    if trial.state.has_mask(method, round_index):
        return trial.state.load_mask(method, round_index)
    previous = round_index - 1
    owner = NAME if previous == 0 else method
    previous_mask = trial.dense_mask() if previous == 0 else trial.state.load_mask(method, previous)
    mask = trial.prune(trial.state.load_weights(owner, previous), previous_mask)
    trial.state.save_mask(method, round_index, mask)
    if previous > 0:
        trial.state.delete_weights(method, previous)
    return mask
