"""Static sparse training: rigl's random ERK mask of round r (the same draw), on theta_0,
trained for T steps without changing it; the baseline that isolates what RigL's moving mask
adds. Round 0 is the ticket's dense round, reused. ``train_cost`` is f_S / f_D.
"""

from __future__ import annotations

from experiments.method_api import Method, MethodContext, RoundRun
from experiments.methods.rigl import dense_round, sparse_fraction, sparse_start


class StaticSparse(Method):
    roles = ("ticket",)

    def run_round(self, context: MethodContext, round_index: int) -> RoundRun:
        if round_index == 0:
            return dense_round(context)
        mask = sparse_start(context, round_index)
        result = yield context.job(mask, context.initial_weights())
        return mask, {**result.metrics(), "train_cost": sparse_fraction(context, mask)}
