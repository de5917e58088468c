"""Learned supermasks on frozen weights (see experiments/supermasks/learned.py).

- ``bernoulli_supermask`` (Zhou et al. 2019): scores start at logit(d), d being the density of
  the layer in the ticket's (imp's) mask of the round, so each round starts from a different
  density; the mask then learns its own density, which the row reports (that of the final
  evaluation mask).
- ``edgepopup`` (Ramanujan et al. 2020): each layer keeps exactly as many weights as imp's mask
  of the round, chosen by learned scores; weights are theta_0. Scores start as the authors' code
  starts them, Kaiming-uniform with a = sqrt(5), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
- ``edgepopup_signed_constant``: the same on weights sign(theta_0) * std of the layer's theta_0.

Each round's search is one ``TrainJob`` carrying a ``SupermaskSpec``: the scheduler trains it
stacked with the other searches of the wave (experiments/stacked_supermask.py). Scores train
with the supermask section's optimizer, momentum, weight decay and schedule where it sets them
(else training's), at ``supermask.lr``, for ``supermask.iterations`` steps (default:
training.iterations); ``supermask.bernoulli`` overrides those for the Bernoulli search. Rounds
1..rounds: at density 1 there is nothing to choose.
"""

from __future__ import annotations

import math
import torch

from experiments.batched_training import TrainJob
from experiments.masks import kept_counts
from experiments.method_api import Method, MethodContext, RoundRun
from experiments.seeding import derive_seed, generator
from experiments.settings import ExperimentSettings
from experiments.supermasks.learned import SupermaskSpec, evaluation_mask
from experiments.training import StateDict

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
        counts = kept_counts(context.required("ticket").mask(round_index))
        spec = SupermaskSpec(self.style, self.initial_scores(context, counts, round_index),
                             counts, context.settings.supermask.rescale,
                             derive_seed(context.seed, "supermask_sampling", round_index))
        job = TrainJob(self.frozen_weights(context, counts), context.dense_mask(),
                       context.seeds.data_order, cfg=search_settings(context.settings, self.style),
                       supermask=spec)
        result = yield job
        return (evaluation_mask(self.style, result.final_weights, counts),
                {**result.metrics(), **result.late_gains()})

    def frozen_weights(self, context: MethodContext, counts: dict[str, int]) -> StateDict:
        """theta_0, its prunable weights replaced by signed constants when asked."""
        weights = dict(context.initial_weights())
        if self.weights == "signed_constant":
            weights.update({name: torch.sign(weights[name]) * weights[name].std()
                            for name in counts})
        return weights

    def initial_scores(self, context: MethodContext, counts: dict[str, int],
                       round_index: int) -> dict[str, torch.Tensor]:
        rng = generator(derive_seed(context.seed, f"supermask_scores_{self.style}", round_index))
        initial = context.initial_weights()
        return {name: self.initial_score(initial[name], counts[name], rng) for name in counts}

    def initial_score(self, weight: torch.Tensor, kept: int, rng: torch.Generator) -> torch.Tensor:
        if self.style == "bernoulli":
            low, high = PROBABILITY_RANGE
            p = min(max(kept / weight.numel(), low), high)
            return torch.full(weight.shape, math.log(p / (1 - p)))
        # edge-popup: scores drawn as the authors' code draws them; |score| picks the first mask.
        return torch.nn.init.kaiming_uniform_(torch.empty(weight.shape), a=math.sqrt(5),
                                              generator=rng)


def search_settings(settings: ExperimentSettings, style: str) -> dict:
    """The trainer's settings for the score search: the experiment's training, with the
    supermask section's optimizer, learning rate, schedule and budget (and, for the Bernoulli
    search, its own overrides of those)."""
    supermask = settings.supermask
    cfg = dict(settings.training, lr=supermask.lr, **supermask.search)
    if supermask.iterations is not None:
        cfg["iterations"] = supermask.iterations
    if style == "bernoulli":
        cfg.update(supermask.bernoulli)  # last: it may give the Bernoulli search its own budget
    if "lr_schedule" in cfg:
        cfg["lr_milestones"] = []  # the search's own schedule replaces training's steps
    return cfg
