"""The dense network alone: train theta_0 once, with no pruning (round 0 only).

Experiments whose methods prune in their own way (structured pruning) start from it; its trained
weights are kept in the trial state under this method's name.
"""

from __future__ import annotations

from experiments.method_api import Method, MethodContext, RoundRun


class Dense(Method):
    def rounds(self, round_count: int) -> list[int]:
        return [0]

    def run_round(self, context: MethodContext, round_index: int) -> RoundRun:
        mask = context.dense_mask()
        result = yield context.job(mask, context.initial_weights())
        context.own.save_trained_weights(0, result.final_weights)
        return mask, result.metrics()
