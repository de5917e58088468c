"""Learned supermasks on frozen weights (see experiments/supermasks/learned.py).

- ``bernoulli_supermask`` (Zhou et al. 2019): scores start at logit(d), d being the density of
  the layer in imp's mask of the round, so each round starts from a different density; the mask
  then learns its own density, which the row reports (that of the final evaluation mask).
- ``edgepopup`` (Ramanujan et al. 2020): each layer keeps exactly as many weights as imp's mask
  of the round, chosen by learned scores; weights are theta_0.
- ``edgepopup_signed_constant``: the same on weights sign(theta_0) * std of the layer's theta_0.

Scores train with the experiment's optimizer at ``supermask.lr`` for ``supermask.iterations``
steps (default: training.iterations). Rounds 1..rounds: at density 1 there is nothing to choose.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch

from experiments.masks import Mask, kept_counts
from experiments.seeding import derive_seed, generator
from experiments.supermasks.learned import SupermaskNet
from experiments.training import train

if TYPE_CHECKING:
    from experiments.trial import Trial

# Keep Bernoulli scores finite: a start at probability 0 or 1 could never move.
PROBABILITY_RANGE = (0.01, 0.99)


class LearnedSupermask:
    """The method training a ``style`` supermask (bernoulli | topk) on ``weights`` (init | signed_constant)."""

    REQUIRES: tuple[str, ...] = ("imp",)

    def __init__(self, style: str, weights: str = "init"):
        self.style, self.weights = style, weights

    def rounds(self, cfg: dict) -> list[int]:
        return list(range(1, cfg["pruning"]["rounds"] + 1))

    def run_round(self, trial: Trial, round_index: int) -> tuple[Mask, dict]:
        counts = kept_counts(trial.state.load_mask("imp", round_index))
        net = self.build(trial, counts, round_index)
        cfg = dict(trial.cfg["training"], lr=trial.cfg["supermask"]["lr"])
        cfg["iterations"] = trial.cfg["supermask"].get("iterations", cfg["iterations"])
        dense = {f"base.{name}": torch.ones_like(keep) for name, keep in trial.dense_mask().items()}
        result = train(net, dense, trial.dataset, cfg, data_seed=trial.seeds.data_order)
        return net.final_mask(), result.metrics()

    def build(self, trial: Trial, counts: dict[str, int], round_index: int) -> SupermaskNet:
        base = trial.build_model(trial.seeds.init)
        base.load_state_dict(trial.initial_weights())
        initial = trial.initial_weights()
        weights = None
        if self.weights == "signed_constant":
            weights = {name: torch.sign(initial[name]) * initial[name].std() for name in counts}
        rng = generator(derive_seed(trial.seed, f"supermask_scores_{self.style}", round_index))
        scores = {name: self.initial_scores(initial[name], counts[name], rng) for name in counts}
        net = SupermaskNet(base, self.style, scores, weights=weights, keep=counts,
                           rescale=trial.cfg["supermask"]["rescale"])
        return net.to(trial.device)

    def initial_scores(self, weight: torch.Tensor, kept: int, rng: torch.Generator) -> torch.Tensor:
        if self.style == "bernoulli":
            low, high = PROBABILITY_RANGE
            p = min(max(kept / weight.numel(), low), high)
            return torch.full(weight.shape, math.log(p / (1 - p)))
        # edge-popup: small random scores; their order picks the first mask.
        return torch.rand(weight.shape, generator=rng) * 0.01


def method(style: str, weights: str = "init") -> LearnedSupermask:
    return LearnedSupermask(style, weights)
