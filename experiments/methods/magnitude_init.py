"""Magnitude pruning at initialisation: keep the largest |theta_0| over all layers at once (no
training before pruning), then train from theta_0. Frankle et al. (2021)'s baseline beside
SNIP, GraSP and SynFlow."""

from __future__ import annotations

from experiments.masks import Mask
from experiments.method_api import MethodContext
from experiments.pai import PruneAtInit, global_top_mask, magnitude_scores


class MagnitudeAtInit(PruneAtInit):
    def choose(self, context: MethodContext, total: int, round_index: int) -> Mask:
        names = list(context.dense_mask())
        return global_top_mask(magnitude_scores(context.initial_weights(), names), total)
