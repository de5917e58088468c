"""Random pruning control: at round r, a random mask keeping exactly as many weights in each
layer as imp's mask does, on the original initialisation theta_0.

Each round draws its mask independently from the trial's ``random_mask/r`` seed (random masks of
successive rounds are not nested). Round 0 (nothing pruned) is imp's dense round, reused. The
module is not called ``random`` so that it can never shadow the standard library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from experiments.masks import random_mask
from experiments.seeding import generator

if TYPE_CHECKING:
    from experiments.batched_training import RoundRun
    from experiments.trial import Trial

REQUIRES: tuple[str, ...] = ("imp",)


def run_round(trial: Trial, round_index: int) -> RoundRun:
    if round_index == 0:
        return trial.reuse_round("imp", 0)
    ticket = trial.state.load_mask("imp", round_index)
    mask = random_mask(ticket, generator(trial.seeds.random_mask(round_index)))
    result = yield trial.job(mask, trial.initial_weights())
    return mask, result.metrics()
