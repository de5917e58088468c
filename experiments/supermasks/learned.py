"""Learned supermasks: train a score per weight while every weight stays frozen.

Two ways to turn scores into a mask in the forward pass, both with a straight-through estimator
(the backward pass treats the mask as if it were the differentiable quantity it stands for):

- ``bernoulli`` (Zhou et al. 2019): keep each weight with probability sigmoid(score), sampled
  afresh at every training step; the gradient reaching the sampled mask goes on to
  sigmoid(score). In evaluation the mask is deterministic: keep where sigmoid(score) > 0.5.
- ``topk`` (edge-popup, Ramanujan et al. 2020): keep, in each layer, the ``k`` weights whose
  score is largest in absolute value, as the authors' code (allenai/hidden-networks) ranks them;
  the gradient reaching the mask goes unchanged to |score|, so to the score times its sign.
  ``k`` is fixed per layer, so the density is exactly what was asked.

The effective weight of a layer is ``w * mask``, times (layer size / kept count) when dynamic
weight rescaling is on. Gradients reach the scores only: the weights are buffers, not parameters.
Bernoulli masks are drawn from a generator of the network's own (``SupermaskSpec.sample_seed``),
so a search draws the same masks whether it trains alone or stacked with others
(experiments/stacked_supermask.py, where a ``TrainJob`` carrying a spec is trained).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import nn
from torch.func import functional_call

from experiments.masks import Mask, prunable_weights


class _SampledBernoulli(torch.autograd.Function):
    """mask ~ Bernoulli(p) forward, drawn from ``sampler``; d mask / d p = 1 backward (straight
    through)."""

    @staticmethod
    def forward(ctx, probability: torch.Tensor, sampler: torch.Generator | None) -> torch.Tensor:
        return torch.bernoulli(probability, generator=sampler)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return grad, None


class _TopK(torch.autograd.Function):
    """mask = 1 on the k largest scores forward; gradient passes straight to the score."""

    @staticmethod
    def forward(ctx, score: torch.Tensor, k: int) -> torch.Tensor:
        return topk_mask(score, k).to(score.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return grad, None


def topk_mask(score: torch.Tensor, k: int) -> torch.Tensor:
    """Bool mask keeping the ``k`` largest entries of ``score`` (ties: lower flat index), the
    first k of a stable descending sort. Selecting the k-th largest value instead of sorting is
    several times faster, and the search asks for a mask every step."""
    flat = score.detach().flatten()
    if k <= 0:
        return torch.zeros_like(flat, dtype=torch.bool).view(score.shape)
    threshold = torch.kthvalue(flat, flat.numel() - k + 1).values
    above, tied = flat > threshold, flat == threshold
    # Of the entries equal to the threshold, the lowest-indexed fill the k places left.
    keep = above | (tied & (tied.cumsum(0) <= k - above.sum()))
    return keep.view(score.shape)


@dataclass(frozen=True)
class SupermaskSpec:
    """What turns a training job into a supermask search (experiments/batched_training.py):
    the job's start weights stay frozen and these scores train instead.

    ``scores`` start the scores of the prunable weights (layer name -> tensor of the weight's
    shape); ``keep`` is each layer's k for topk; ``sample_seed`` seeds the generator of the
    Bernoulli draws, one per network, so a network draws the same masks alone or in a stack."""

    style: str  # bernoulli | topk
    scores: Mapping[str, torch.Tensor]
    keep: Mapping[str, int]
    rescale: bool
    sample_seed: int

    def __post_init__(self) -> None:
        _check_style(self.style)

    def sampler(self, device: torch.device) -> torch.Generator | None:
        """A fresh generator of the Bernoulli draws on ``device`` (None for topk, which draws
        nothing). CPU and CUDA generators give different streams."""
        if self.style != "bernoulli":
            return None
        return torch.Generator(device=device).manual_seed(self.sample_seed)


STYLES = ("bernoulli", "topk")


def _check_style(style: str) -> None:
    if style not in STYLES:
        raise ValueError(f"unknown supermask style {style!r} (known: {', '.join(STYLES)})")


def layer_mask(style: str, score: torch.Tensor, keep: int | None, training: bool,
               sampler: torch.Generator | None) -> torch.Tensor:
    """The float mask of one layer from its scores: sampled in training for bernoulli."""
    if style == "topk":
        return _TopK.apply(score.abs(), keep)
    if training:
        return _SampledBernoulli.apply(torch.sigmoid(score), sampler)
    return (score > 0).to(score.dtype)  # sigmoid(score) > 0.5


def masked_weight(frozen: torch.Tensor, mask: torch.Tensor, rescale: bool) -> torch.Tensor:
    """The effective weight ``frozen * mask``, times (size / kept) when ``rescale``. The lone
    and the stacked trainer both call this, so their gradients round alike."""
    scale = mask.numel() / mask.detach().sum().clamp_min(1.0) if rescale else 1.0
    return frozen * mask * scale


class SupermaskNet(nn.Module):
    """``base`` with frozen weights, masked by scores learned in ``style`` (bernoulli | topk).

    ``weights`` replaces the base's prunable weights (e.g. signed constants instead of theta_0);
    ``keep`` gives each layer's k for topk; ``initial_scores`` starts the scores; ``sampler``
    draws the Bernoulli masks (None: torch's global generator).
    """

    def __init__(self, base: nn.Module, style: str, initial_scores: Mapping[str, torch.Tensor],
                 *, weights: Mapping[str, torch.Tensor] | None = None,
                 keep: Mapping[str, int] | None = None, rescale: bool = True,
                 sampler: torch.Generator | None = None):
        super().__init__()
        _check_style(style)
        self.base, self.style, self.rescale, self.sampler = base, style, rescale, sampler
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

    @classmethod
    def of_spec(cls, base: nn.Module, spec: SupermaskSpec) -> SupermaskNet:
        """The net a supermask job trains alone: ``base`` already holds the frozen weights."""
        return cls(base, spec.style, spec.scores, keep=spec.keep, rescale=spec.rescale,
                   sampler=spec.sampler(next(base.parameters()).device))

    def layer_masks(self) -> dict[str, torch.Tensor]:
        """Float masks as the forward pass uses them (sampled in training mode for bernoulli)."""
        return {name: layer_mask(self.style, score, self.keep.get(name), self.training,
                                 self.sampler)
                for name, score in zip(self.names, self.scores)}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        params = dict(self._frozen)
        for name, mask in self.layer_masks().items():
            params[name] = masked_weight(self._frozen[name], mask, self.rescale)
        return functional_call(self.base, params, (x,))

    def _apply(self, fn, recurse=True):
        # Keep the frozen tensors on the module's device and dtype (they are not buffers so that
        # the state dict holds the scores alone).
        super()._apply(fn, recurse)
        self._frozen = {name: fn(value) for name, value in self._frozen.items()}
        return self

    def score_dict(self) -> dict[str, torch.Tensor]:
        """The scores as CPU tensors keyed by the base model's weight names."""
        return {name: score.detach().to("cpu", copy=True)
                for name, score in zip(self.names, self.scores)}

    @torch.no_grad()
    def final_mask(self) -> Mask:
        """The evaluation mask, as bool CPU tensors keyed by the base model's weight names."""
        return evaluation_mask(self.style, self.score_dict(), self.keep)


@torch.no_grad()
def evaluation_mask(style: str, scores: Mapping[str, torch.Tensor],
                    keep: Mapping[str, int]) -> Mask:
    """The mask scores give in evaluation (top-k, or sigmoid(score) > 0.5), bool, on the CPU."""
    return {name: layer_mask(style, score, keep.get(name), False, None).bool().cpu()
            for name, score in scores.items()}
