"""Random pruning at initialisation: keep ``total`` weights drawn uniformly from all layers
together, so every layer keeps the same fraction in expectation (not imp's per-layer counts, as
the ``random`` control does), then train from theta_0. The draw uses the trial's
``random_mask/r`` seed: the top ``total`` of independent uniform scores are a uniform subset."""

from __future__ import annotations

import torch

from experiments.masks import Mask
from experiments.method_api import MethodContext
from experiments.pai import PruneAtInit, global_top_mask
from experiments.seeding import generator


class RandomAtInit(PruneAtInit):
    def choose(self, context: MethodContext, total: int, round_index: int) -> Mask:
        rng = generator(context.seeds.random_mask(round_index))
        scores = {name: torch.rand(keep.shape, generator=rng, dtype=torch.float64)
                  for name, keep in context.dense_mask().items()}
        return global_top_mask(scores, total)
