"""Learned supermasks: train a score per weight while every weight stays frozen.

Two ways to turn scores into a mask in the forward pass, both with a straight-through estimator
(the backward pass treats the mask as if it were the differentiable quantity it stands for):

- ``bernoulli`` (Zhou et al. 2019): keep each weight with probability sigmoid(score), sampled
  afresh at every training step; the gradient reaching the sampled mask goes on to
  sigmoid(score). In evaluation the mask is deterministic: keep where sigmoid(score) > 0.5.
- ``topk`` (edge-popup, Ramanujan et al. 2020): keep, in each layer, the ``k`` weights of largest
  score; the gradient reaching the mask goes unchanged to the score. (Ranking by the score
  itself, not its absolute value: a score pushed far below zero means "drop this weight".) ``k`` is fixed per layer,
  so the density is exactly what was asked.

The effective weight of a layer is ``w * mask``, times (layer size / kept count) when dynamic
weight rescaling is on. Gradients reach the scores only: the weights are buffers, not parameters.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn
from torch.func import functional_call

from experiments.masks import Mask, prunable_weights


class _SampledBernoulli(torch.autograd.Function):
    """mask ~ Bernoulli(p) forward; d mask / d p = 1 backward (straight through)."""

    @staticmethod
    def forward(ctx, probability: torch.Tensor) -> torch.Tensor:
        return torch.bernoulli(probability)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        return grad


class _TopK(torch.autograd.Function):
    """mask = 1 on the k largest scores forward; gradient passes straight to the score."""

    @staticmethod
    def forward(ctx, score: torch.Tensor, k: int) -> torch.Tensor:
        return topk_mask(score, k).to(score.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return grad, None


def topk_mask(score: torch.Tensor, k: int) -> torch.Tensor:
    """Bool mask keeping the ``k`` largest entries of ``score`` (ties: lower flat index)."""
    order = torch.sort(score.detach().flatten(), descending=True, stable=True).indices
    keep = torch.zeros(score.numel(), dtype=torch.bool, device=score.device)
    keep[order[:k]] = True
    return keep.view(score.shape)


class SupermaskNet(nn.Module):
    """``base`` with frozen weights, masked by scores learned in ``style`` (bernoulli | topk).

    ``weights`` replaces the base's prunable weights (e.g. signed constants instead of theta_0);
    ``keep`` gives each layer's k for topk; ``initial_scores`` starts the scores.
    """

    def __init__(self, base: nn.Module, style: str, initial_scores: Mapping[str, torch.Tensor],
                 *, weights: Mapping[str, torch.Tensor] | None = None,
                 keep: Mapping[str, int] | None = None, rescale: bool = True):
        super().__init__()
        if style not in ("bernoulli", "topk"):
            raise ValueError(f"unknown supermask style {style!r} (known: bernoulli, topk)")
        self.base, self.style, self.rescale = base, style, rescale
        self.keep = dict(keep or {})
        frozen = {name: p.detach().clone() for name, p in base.named_parameters()}
        frozen.update({name: w.detach().to(frozen[name]) for name, w in (weights or {}).items()})
        self.names = list(prunable_weights(base))
        for param in base.parameters():
            param.requires_grad_(False)
        self._frozen = frozen
        # Parameter names cannot hold dots: index the scores by layer position.
        self.scores = nn.ParameterList(
            [nn.Parameter(initial_scores[name].detach().to(frozen[name]).clone())
             for name in self.names])

    def layer_masks(self) -> dict[str, torch.Tensor]:
        """Float masks as the forward pass uses them (sampled in training mode for bernoulli)."""
        masks = {}
        for name, score in zip(self.names, self.scores):
            if self.style == "topk":
                masks[name] = _TopK.apply(score, self.keep[name])
            elif self.training:
                masks[name] = _SampledBernoulli.apply(torch.sigmoid(score))
            else:
                masks[name] = (score > 0).to(score.dtype)  # sigmoid(score) > 0.5
        return masks

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        params = dict(self._frozen)
        for name, mask in self.layer_masks().items():
            scale = mask.numel() / mask.detach().sum().clamp_min(1.0) if self.rescale else 1.0
            params[name] = self._frozen[name] * mask * scale
        return functional_call(self.base, params, (x,))

    def _apply(self, fn, recurse=True):
        # Keep the frozen tensors on the module's device and dtype (they are not buffers so that
        # the state dict holds the scores alone).
        super()._apply(fn, recurse)
        self._frozen = {name: fn(value) for name, value in self._frozen.items()}
        return self

    @torch.no_grad()
    def final_mask(self) -> Mask:
        """The evaluation mask, as bool CPU tensors keyed by the base model's weight names."""
        was_training = self.training
        self.eval()
        masks = {name: mask.bool().cpu() for name, mask in self.layer_masks().items()}
        self.train(was_training)
        return masks
