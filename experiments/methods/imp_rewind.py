"""Iterative magnitude pruning with rewinding (Frankle et al., 2019, "Stabilizing the Lottery
Ticket Hypothesis"): like imp, but the survivors restart from theta_k, the dense network's weights
after ``rewind_iteration`` = k steps, instead of theta_0.

Round 0 is the ticket's round 0 (the same dense network from theta_0 with the same data order),
reused rather than trained twice; the ticket's method recorded theta_k during it.
"""

from __future__ import annotations

from experiments.method_api import Method, MethodContext, RoundRun
from experiments.methods.imp import chain_mask


class RewoundIterativeMagnitude(Method):
    roles = ("ticket",)

    def run_round(self, context: MethodContext, round_index: int) -> RoundRun:
        ticket = context.required("ticket")
        if round_index == 0:
            return ticket.finished_round(0)
        mask = chain_mask(context, ticket, round_index)
        result = yield context.job(mask, ticket.rewind_weights(),
                                   start_iteration=context.settings.rewind_iteration)
        context.own.save_trained_weights(round_index, result.final_weights)
        return mask, result.metrics()
