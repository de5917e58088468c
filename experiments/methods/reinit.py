"""Random reinitialisation control (Frankle & Carbin, 2019): the ticket's mask at round r on
fresh random weights instead of theta_0.

The fresh weights come from the trial's ``reinit`` seed, distinct from the ``init`` seed and the
same in every round, so each round compares the ticket's mask on theta_0 with that mask on one
fixed alternative initialisation. Round 0 is therefore a second dense network, from that
alternative initialisation, and is trained (not reused).
"""

from __future__ import annotations

from experiments.method_api import Method, MethodContext, RoundRun
from experiments.training import state_snapshot


class Reinit(Method):
    roles = ("ticket",)

    def run_round(self, context: MethodContext, round_index: int) -> RoundRun:
        mask = (context.dense_mask() if round_index == 0
                else context.required("ticket").mask(round_index))
        fresh_weights = state_snapshot(context.build_model(context.seeds.reinit))
        result = yield context.job(mask, fresh_weights)
        return mask, result.metrics()
