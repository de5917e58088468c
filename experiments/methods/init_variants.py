"""Re-initialisations of a winning ticket (Zhou et al. 2019): the ticket's mask of round r, trained
from weights that keep some property of theta_0 and drop the rest.

- ``reshuffle``: the kept initial values of each layer, permuted at random among its kept
  positions: the layer keeps its distribution of magnitudes but not which weight had which value,
  nor its sign.
- ``signed_constant``: every kept weight becomes sign(theta_0) times the standard deviation of its
  layer's initial weights: signs kept, magnitudes dropped.
- ``signed_constant_rescaled``: the same, times the layer's dynamic rescaling factor
  (layer size / kept count), so a layer's total weight does not shrink as it is pruned.

Fresh random weights (signs and magnitudes both dropped) are the ``reinit`` method. Biases keep
their theta_0 values in every variant. Round 0 applies the variant to the dense network.
"""

from __future__ import annotations

import torch

from experiments.masks import Mask
from experiments.method_api import Method, MethodContext, RoundRun
from experiments.seeding import derive_seed, generator


def reshuffled(initial: torch.Tensor, keep: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
    """``initial`` with its kept values permuted among the kept positions."""
    flat, kept = initial.flatten().clone(), keep.flatten().nonzero().squeeze(1)
    flat[kept] = flat[kept][torch.randperm(kept.numel(), generator=rng)]
    return flat.view(initial.shape)


def signed_constant(initial: torch.Tensor, keep: torch.Tensor, rescale: bool) -> torch.Tensor:
    """sign(initial) * std(initial), times (size / kept) when ``rescale``."""
    scale = keep.numel() / max(int(keep.sum()), 1) if rescale else 1.0
    return torch.sign(initial) * initial.std() * scale


class InitVariant(Method):
    """The method that trains the ticket's round-r mask from the variant ``kind`` of theta_0."""

    roles = ("ticket",)

    def __init__(self, kind: str):
        if kind not in ("reshuffle", "signed_constant", "signed_constant_rescaled"):
            raise ValueError(f"unknown initialisation variant {kind!r}")
        self.kind = kind

    def run_round(self, context: MethodContext, round_index: int) -> RoundRun:
        mask = (context.dense_mask() if round_index == 0
                else context.required("ticket").mask(round_index))
        start = self.variant_weights(context, mask, round_index)
        result = yield context.job(mask, start)
        return mask, result.metrics()

    def variant_weights(self, context: MethodContext, mask: Mask, round_index: int) -> dict:
        weights = dict(context.initial_weights())
        rng = generator(derive_seed(context.seed, self.kind, round_index))
        for name, keep in mask.items():
            if self.kind == "reshuffle":
                weights[name] = reshuffled(weights[name], keep, rng)
            else:
                weights[name] = signed_constant(weights[name], keep,
                                                rescale=self.kind.endswith("_rescaled"))
        return weights
