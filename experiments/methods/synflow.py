"""SynFlow (Tanaka et al. 2020): data-free iterative synaptic-flow pruning at theta_0, 100
rounds on an exponential schedule, over all layers at once; then train from theta_0. The
criterion is experiments/pai.py's ``synflow_mask``."""

from __future__ import annotations

from experiments.masks import Mask
from experiments.method_api import MethodContext
from experiments.pai import PruneAtInit, initial_model, synflow_mask


class SynFlow(PruneAtInit):
    def choose(self, context: MethodContext, total: int, round_index: int) -> Mask:
        return synflow_mask(initial_model(context), context.dataset.input_shape, total)
