"""SNIP (Lee et al. 2019): keep the weights of highest connection sensitivity |g * w| at theta_0,
g the loss gradient on one minibatch, over all layers at once; one shot, then train from theta_0.
The criterion is experiments/pai.py's ``snip_scores``."""

from __future__ import annotations

from experiments.masks import Mask
from experiments.method_api import MethodContext
from experiments.pai import PruneAtInit, global_top_mask, initial_model, scoring_batch, snip_scores


class Snip(PruneAtInit):
    def choose(self, context: MethodContext, total: int, round_index: int) -> Mask:
        x, y = scoring_batch(context)
        return global_top_mask(snip_scores(initial_model(context), x, y), total)
