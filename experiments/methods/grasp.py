"""GraSP (Wang et al. 2020): remove the weights of highest -w * (H g) at theta_0 (the authors'
code's sign; see experiments/pai.py), H g by double backpropagation on one minibatch, over all
layers at once; one shot, then train from theta_0."""

from __future__ import annotations

from experiments.masks import Mask
from experiments.method_api import MethodContext
from experiments.pai import PruneAtInit, global_top_mask, grasp_scores, initial_model, scoring_batch


class Grasp(PruneAtInit):
    def choose(self, context: MethodContext, total: int, round_index: int) -> Mask:
        x, y = scoring_batch(context)
        return global_top_mask(grasp_scores(initial_model(context), x, y), total)
