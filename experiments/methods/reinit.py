"""Random reinitialisation control (Frankle & Carbin, 2019): imp's mask at round r on fresh
random weights instead of theta_0.

The fresh weights come from the trial's ``reinit`` seed, distinct from the ``init`` seed and the
same in every round, so each round compares the ticket's mask on theta_0 with that mask on one
fixed alternative initialisation. Round 0 is therefore a second dense network, from that
alternative initialisation, and is trained (not reused).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from experiments.training import state_snapshot

if TYPE_CHECKING:
    from experiments.batched_training import RoundRun
    from experiments.trial import Trial

REQUIRES: tuple[str, ...] = ("imp",)


def run_round(trial: Trial, round_index: int) -> RoundRun:
    mask = trial.dense_mask() if round_index == 0 else trial.state.load_mask("imp", round_index)
    fresh_weights = state_snapshot(trial.build_model(trial.seeds.reinit))
    result = yield trial.job(mask, fresh_weights)
    return mask, result.metrics()
