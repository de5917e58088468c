"""Iterative magnitude pruning with resetting (Frankle & Carbin, 2019): train, remove the smallest
``rate`` of the still-kept weights, reset the survivors to the initial weights theta_0, repeat.

Round 0 trains the dense network from theta_0; its trained weights are kept in the trial state
for the methods that start from them (oneshot, imp_rewind), and when the experiment sets
``rewind_iteration`` k its weights after k steps (theta_k) are kept for imp_rewind.
"""

from __future__ import annotations

from experiments.masks import Mask
from experiments.method_api import Method, MethodContext, RoundRun, StateHandle


class IterativeMagnitude(Method):
    def run_round(self, context: MethodContext, round_index: int) -> RoundRun:
        mask = chain_mask(context, context.own, round_index)
        rewind = context.settings.rewind_iteration if round_index == 0 else None
        result = yield context.job(mask, context.initial_weights(), snapshot_iteration=rewind)
        if result.snapshot is not None:
            context.own.save_rewind_weights(result.snapshot)
        context.own.save_trained_weights(round_index, result.final_weights)
        return mask, result.metrics()


def chain_mask(context: MethodContext, dense_run: StateHandle, round_index: int) -> Mask:
    """Mask of round ``round_index`` of the iterative chain of ``context``'s method.

    Dense at round 0; afterwards the previous round's mask pruned by the magnitudes of the
    previous round's trained weights, those of round 0 being ``dense_run``'s (imp's own dense
    network, which imp_rewind shares). The new mask is saved before training, so a rerun after a
    crash finds it even once the weights it was pruned from have been deleted (only the latest
    round's trained weights are kept, and round 0's).
    """
    if round_index == 0:
        return context.dense_mask()
    own = context.own
    if own.has_mask(round_index):
        return own.mask(round_index)
    previous = round_index - 1
    owner = dense_run if previous == 0 else own
    previous_mask = context.dense_mask() if previous == 0 else own.mask(previous)
    mask = context.prune(owner.trained_weights(previous), previous_mask)
    own.save_mask(round_index, mask)
    if previous > 0:
        own.delete_trained_weights(previous)
    return mask
