"""Learned supermasks on frozen weights (see experiments/supermasks/learned.py).

- ``bernoulli_supermask`` (Zhou et al. 2019): scores start at logit(d), d being the density of
  the layer in the ticket's (imp's) mask of the round, so each round starts from a different
  density; the mask then learns its own density, which the row reports (that of the final
  evaluation mask).
- ``edgepopup`` (Ramanujan et al. 2020): each layer keeps exactly as many weights as imp's mask
  of the round, chosen by learned scores; weights are theta_0.
- ``edgepopup_signed_constant``: the same on weights sign(theta_0) * std of the layer's theta_0.

Scores train with the experiment's optimizer at ``supermask.lr`` for ``supermask.iterations``
steps (default: training.iterations). Rounds 1..rounds: at density 1 there is nothing to choose.
"""

from __future__ import annotations

import math
import torch

from experiments.masks import kept_counts
from experiments.method_api import Method, MethodContext, RoundRun
from experiments.seeding import derive_seed, generator
from experiments.supermasks.learned import SupermaskNet
from experiments.training import train

# Keep Bernoulli scores finite: a start at probability 0 or 1 could never move.
PROBABILITY_RANGE = (0.01, 0.99)


class LearnedSupermask(Method):
    """The method training a ``style`` supermask (bernoulli | topk) on ``weights`` (init |
    signed_constant), as many weights per layer as the ticket's mask of the round keeps."""

    roles = ("ticket",)

    def __init__(self, style: str, weights: str = "init"):
        self.style, self.weights = style, weights

    def rounds(self, round_count: int) -> list[int]:
        return list(range(1, round_count + 1))

    def run_round(self, context: MethodContext, round_index: int) -> RoundRun:
        yield from ()  # trains in-process: no job for the scheduler
        counts = kept_counts(context.required("ticket").mask(round_index))
        net = self.build(context, counts, round_index)
        supermask = context.settings.supermask
        cfg = dict(context.settings.training, lr=supermask.lr)
        if supermask.iterations is not None:
            cfg["iterations"] = supermask.iterations
        dense = {f"base.{name}": torch.ones_like(keep)
                 for name, keep in context.dense_mask().items()}
        result = train(net, dense, context.dataset, cfg, data_seed=context.seeds.data_order)
        return net.final_mask(), result.metrics()

    def build(self, context: MethodContext, counts: dict[str, int],
              round_index: int) -> SupermaskNet:
        base = context.build_model(context.seeds.init)
        base.load_state_dict(context.initial_weights())
        initial = context.initial_weights()
        weights = None
        if self.weights == "signed_constant":
            weights = {name: torch.sign(initial[name]) * initial[name].std() for name in counts}
        rng = generator(derive_seed(context.seed, f"supermask_scores_{self.style}", round_index))
        scores = {name: self.initial_scores(initial[name], counts[name], rng) for name in counts}
        net = SupermaskNet(base, self.style, scores, weights=weights, keep=counts,
                           rescale=context.settings.supermask.rescale)
        return net.to(context.device)

    def initial_scores(self, weight: torch.Tensor, kept: int, rng: torch.Generator) -> torch.Tensor:
        if self.style == "bernoulli":
            low, high = PROBABILITY_RANGE
            p = min(max(kept / weight.numel(), low), high)
            return torch.full(weight.shape, math.log(p / (1 - p)))
        # edge-popup: small random scores; their order picks the first mask.
        return torch.rand(weight.shape, generator=rng) * 0.01

