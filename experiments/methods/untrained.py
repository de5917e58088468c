"""Untrained supermasks (Zhou et al. 2019): a mask chosen by a criterion of the initial and the
trained weights, put on the untrained initial weights theta_0 and evaluated with no training.

Round r keeps, in every layer, as many weights as the ticket's (imp's) mask of round r, chosen
by the criterion from theta_0 and the dense network trained in the ticket's round 0 (one shot, not iteratively). Round 0
keeps everything: the untrained dense network, i.e. chance. With ``supermask.rescale`` the kept
weights of each layer are multiplied by (layer size / kept count), Zhou et al.'s dynamic weight
rescaling. One method per criterion: ``untrained_<criterion>`` (see supermasks/criteria.py).
"""

from __future__ import annotations

import torch

from experiments.masks import Mask, kept_counts
from experiments.method_api import Method, MethodContext, RoundRun
from experiments.seeding import derive_seed, generator
from experiments.supermasks.criteria import CRITERIA, criterion_mask
from experiments.training import evaluate


class UntrainedCriterion(Method):
    """The method ``untrained_<criterion>``."""

    roles = ("ticket",)

    def __init__(self, criterion: str):
        if criterion not in CRITERIA:
            raise ValueError(f"unknown mask criterion {criterion!r}")
        self.criterion = criterion

    def run_round(self, context: MethodContext, round_index: int) -> RoundRun:
        yield from ()  # evaluated in-process: no job for the scheduler
        ticket = context.required("ticket")
        counts = kept_counts(ticket.mask(round_index))
        rng = generator(derive_seed(context.seed, f"untrained_{self.criterion}", round_index))
        initial = context.initial_weights()
        mask = criterion_mask(self.criterion, initial, ticket.trained_weights(0), counts, rng)
        rescale = context.settings.supermask.rescale
        return mask, evaluate_untrained(context, masked_weights(initial, mask, rescale))


def masked_weights(weights: dict, mask: Mask, rescale: bool) -> dict:
    """``weights`` with the pruned weights zeroed, kept ones rescaled when asked."""
    out = dict(weights)
    for name, keep in mask.items():
        scale = keep.numel() / max(int(keep.sum()), 1) if rescale else 1.0
        out[name] = weights[name] * keep.to(weights[name].dtype) * scale
    return out


@torch.no_grad()
def evaluate_untrained(context: MethodContext, weights: dict) -> dict:
    """The rounds.csv metrics of a network evaluated as it is (iteration 0, no training)."""
    model = context.build_model(context.seeds.init)
    model.load_state_dict(weights)
    batch_size = context.settings.eval_batch_size
    val_loss, val_acc = evaluate(model, context.dataset.val, batch_size)
    _, test_acc = evaluate(model, context.dataset.test, batch_size)
    return {"test_acc": test_acc, "val_acc": val_acc, "val_loss": val_loss, "early_stop_iter": 0,
            "final_test_acc": test_acc, "final_val_acc": val_acc, "iterations": 0}

