"""One-shot magnitude pruning: prune the trained dense network (the ticket's round 0) in a single
step to the weight counts the ticket's mask has at round r, reset the survivors to theta_0, train.

Comparing it with imp at equal density separates the value of pruning iteratively. With global
scope the pooled layers keep the ticket's pooled total, spread by magnitude, so per-layer counts
may differ from the ticket's. Round 0 (density 1) is the ticket's dense round, reused.
"""

from __future__ import annotations

from experiments.masks import magnitude_prune_like
from experiments.method_api import Method, MethodContext, RoundRun


class OneShot(Method):
    roles = ("ticket",)

    def run_round(self, context: MethodContext, round_index: int) -> RoundRun:
        ticket = context.required("ticket")
        if round_index == 0:
            return ticket.finished_round(0)
        pruning = context.settings.pruning
        mask = magnitude_prune_like(ticket.trained_weights(0), context.dense_mask(),
                                    ticket.mask(round_index), pruning.scope, context.kinds,
                                    output_in_pool=pruning.output_in_pool)
        result = yield context.job(mask, context.initial_weights())
        return mask, result.metrics()
