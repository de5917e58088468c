"""Random pruning control: at round r, a random mask keeping exactly as many weights in each
layer as the ticket's mask does, on the original initialisation theta_0.

Each round draws its mask independently from the trial's ``random_mask/r`` seed (random masks of
successive rounds are not nested). Round 0 (nothing pruned) is the ticket's dense round, reused.
The module is not called ``random`` so that it can never shadow the standard library.
"""

from __future__ import annotations

from experiments.masks import random_mask
from experiments.method_api import Method, MethodContext, RoundRun
from experiments.seeding import generator


class RandomMask(Method):
    roles = ("ticket",)

    def run_round(self, context: MethodContext, round_index: int) -> RoundRun:
        ticket = context.required("ticket")
        if round_index == 0:
            return ticket.finished_round(0)
        mask = random_mask(ticket.mask(round_index),
                           generator(context.seeds.random_mask(round_index)))
        result = yield context.job(mask, context.initial_weights())
        return mask, result.metrics()
