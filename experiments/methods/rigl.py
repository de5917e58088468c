"""RigL (Evci et al. 2020, "Rigging the Lottery"): sparse training that moves its connections.

Round r starts from a random mask with as many weights in all as imp's mask of round r, spread
over the layers by ERK (the layer densities the paper uses for most results), on theta_0, and
trains for T steps while ``RigLUpdate`` (experiments/dynamic_sparsity.py) drops and grows
connections every ``rigl.update_every`` steps until ``rigl.end_fraction`` of training. The mask
is drawn from the trial's ``sparse_init/r`` seed, the same one static_sparse draws, so the two
differ only in whether the mask moves. The row's mask is the one training ended with (each
layer keeps its count throughout); ``train_cost`` counts the dense gradient of every update
step, as the paper's FLOP accounting does. Round 0 is the ticket's dense round, reused.
"""

from __future__ import annotations

from experiments.batched_training import TrainJob
from experiments.dynamic_sparsity import RigLUpdate, erk_random_mask, flops_fraction, rigl_cost
from experiments.masks import Mask
from experiments.method_api import Method, MethodContext, RoundRun
from experiments.seeding import derive_seed, generator


class RigL(Method):
    roles = ("ticket",)

    def run_round(self, context: MethodContext, round_index: int) -> RoundRun:
        if round_index == 0:
            return dense_round(context)
        mask = sparse_start(context, round_index)
        settings, iterations = context.settings.rigl, context.settings.training["iterations"]
        update = RigLUpdate(settings.update_every, settings.drop_fraction,
                            round(settings.end_fraction * iterations))
        result = yield TrainJob(context.initial_weights(), mask, context.seeds.data_order,
                                mask_update=update)
        cost = rigl_cost(sparse_fraction(context, mask), iterations, update.updates(iterations))
        return result.final_mask, {**result.metrics(), "train_cost": cost}


def sparse_start(context: MethodContext, round_index: int) -> Mask:
    """The random ERK mask of round ``round_index`` (rigl's start, static_sparse's mask)."""
    like = context.required("ticket").mask(round_index)
    return erk_random_mask(like, generator(derive_seed(context.seed, "sparse_init", round_index)))


def sparse_fraction(context: MethodContext, mask: Mask) -> float:
    """f_S / f_D of the trial's model under ``mask``."""
    return flops_fraction(context.build_model(context.seeds.init), context.dataset.input_shape,
                          mask)


def dense_round(context: MethodContext) -> tuple[Mask, dict]:
    """The ticket's finished dense round, with its training cost (one dense training)."""
    mask, metrics = context.required("ticket").finished_round(0)
    return mask, {**metrics, "train_cost": 1.0}
