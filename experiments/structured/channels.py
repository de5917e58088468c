"""Channels of a plain convolutional chain, how important each one is, and which ones to remove.

A *channel* is one output filter of a convolution together with everything that belongs to it:
the batch norm entry right after the convolution (if any), the matching input channel of the next
convolution, and, after the last convolution, the features it contributes to the first Linear
layer. Removing it removes all of these at once.

Scores (higher = more important):

- ``l1``: the L1 norm of the filter's kernel weights, sum |w| over its input channels and taps
  (Li et al. 2017, "Pruning Filters for Efficient ConvNets").
- ``bn_scale``: |gamma|, the absolute scale of the batch norm after the convolution (Liu et al.
  2017, "Learning Efficient Convolutional Networks through Network Slimming").

Selection removes the lowest-scoring channels, either the same fraction of every layer
(``layerwise``, as Li et al. do) or the lowest across all layers pooled (``global``, the single
threshold of network slimming). Either way at least one channel of every layer stays, so the
network stays connected. Removal counts round half up, as in experiments/masks.py. Ties are broken
deterministically by a stable sort: among equal scores the lower channel index (then the earlier
layer) is removed first.

Only chains are handled: ConvNet (conv2/4/6, convnet) and VGG. ResNet is refused, because its
residual additions tie the channels of all the layers that feed the same sum together.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch
from torch import nn

from experiments.masks import removal_count
from experiments.models.conv import BATCH_NORMS, ConvNet
from experiments.models.vgg import VGG

# Conv module name -> bool tensor (out_channels,) on the CPU: True = the channel is kept.
Keep = dict[str, torch.Tensor]
CONVS = (nn.Conv1d, nn.Conv2d)
SCOPES = ("layerwise", "global")


class StructureError(ValueError):
    """The model is not a chain of convolutions that channel pruning can narrow."""


@dataclass(frozen=True)
class ChannelLayer:
    """One convolution whose output channels can be removed."""

    conv: str  # module name, e.g. "layers.0"
    norm: str | None  # module name of the batch norm right after it, if any
    channels: int


@dataclass(frozen=True)
class ChannelStructure:
    """The convolutions in forward order and the Linear layer that reads the last one."""

    layers: tuple[ChannelLayer, ...]
    linear: str  # module name of the first Linear layer
    positions: int  # input features of that Linear per channel of the last convolution


def channel_structure(model: nn.Module) -> ChannelStructure:
    """The channel layers of a ConvNet or VGG; StructureError for any other model."""
    if not isinstance(model, (ConvNet, VGG)):
        raise StructureError(
            f"structured pruning handles ConvNet (conv2, conv4, conv6, convnet) and VGG models, "
            f"not {type(model).__name__}: residual connections (ResNet) tie channels across "
            "layers, and a network without convolutions has no channels")
    leaves = [(name, module) for name, module in model.named_modules()
              if isinstance(module, (*CONVS, *BATCH_NORMS, nn.Linear))]
    layers: list[ChannelLayer] = []
    for index, (name, module) in enumerate(leaves):
        if isinstance(module, nn.Linear):
            return _finish(model, layers, name, module)
        if isinstance(module, CONVS):
            _check_conv(name, module, layers[-1].channels if layers else None)
            following = leaves[index + 1] if index + 1 < len(leaves) else (None, None)
            norm = following[0] if isinstance(following[1], BATCH_NORMS) else None
            layers.append(ChannelLayer(conv=name, norm=norm, channels=module.out_channels))
    raise StructureError(f"{type(model).__name__} has no Linear layer after its convolutions")


def _check_conv(name: str, conv: nn.Module, previous: int | None) -> None:
    if conv.groups != 1:
        raise StructureError(f"{name}: grouped convolutions are not supported")
    if previous is not None and conv.in_channels != previous:
        raise StructureError(f"{name}: reads {conv.in_channels} channels, the previous "
                             f"convolution makes {previous}; not a plain chain")


def _finish(model: nn.Module, layers: list[ChannelLayer], name: str,
            linear: nn.Linear) -> ChannelStructure:
    if not layers:
        raise StructureError(f"{type(model).__name__} has no convolution before its Linear layers")
    positions, rest = divmod(linear.in_features, layers[-1].channels)
    if rest:
        raise StructureError(f"{name}: {linear.in_features} inputs are not a whole number of "
                             f"positions per channel of {layers[-1].conv}")
    return ChannelStructure(layers=tuple(layers), linear=name, positions=positions)


# --- Scores -------------------------------------------------------------------------------------


def l1_scores(model: nn.Module) -> dict[str, torch.Tensor]:
    """Conv name -> L1 norm of each output filter's weights, (out_channels,) on the CPU."""
    scores = {}
    for layer in channel_structure(model).layers:
        weight = model.get_submodule(layer.conv).weight.detach()  # (out, in, *kernel)
        scores[layer.conv] = weight.abs().flatten(1).sum(dim=1).cpu()
    return scores


def bn_scale_scores(model: nn.Module) -> dict[str, torch.Tensor]:
    """Conv name -> |gamma| of the batch norm after it, (out_channels,) on the CPU."""
    scores = {}
    for layer in channel_structure(model).layers:
        if layer.norm is None:
            raise StructureError(f"{layer.conv}: bn_scale needs a batch norm after every "
                                 "convolution (model option batch_norm: true)")
        scores[layer.conv] = model.get_submodule(layer.norm).weight.detach().abs().cpu()
    return scores


CRITERIA: dict[str, Callable[[nn.Module], dict[str, torch.Tensor]]] = {
    "l1": l1_scores,
    "bn_scale": bn_scale_scores,
}


def channel_scores(model: nn.Module, criterion: str) -> dict[str, torch.Tensor]:
    """Scores of every channel under ``criterion`` (one of CRITERIA)."""
    if criterion not in CRITERIA:
        raise ValueError(f"unknown channel criterion {criterion!r} (known: {', '.join(CRITERIA)})")
    return CRITERIA[criterion](model)


# --- Selection ----------------------------------------------------------------------------------


def select_channels(scores: Mapping[str, torch.Tensor], ratio: float, scope: str) -> Keep:
    """Keep masks removing the fraction ``ratio`` of the channels with the lowest scores."""
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not 0 < ratio < 1:
        raise ValueError(f"channel ratio (fraction of channels removed) must be in (0, 1), "
                         f"got {ratio!r}")
    if scope == "layerwise":
        return {name: _keep_layer(score, ratio) for name, score in scores.items()}
    if scope == "global":
        return _keep_global(scores, ratio)
    raise ValueError(f"unknown channel selection scope {scope!r} (known: {', '.join(SCOPES)})")


def _keep_layer(score: torch.Tensor, ratio: float) -> torch.Tensor:
    """Remove round(ratio * channels) of this layer's lowest scores, never the last channel."""
    count = min(removal_count(ratio, score.numel()), score.numel() - 1)
    keep = torch.ones(score.numel(), dtype=torch.bool)
    keep[torch.sort(score, stable=True).indices[:count]] = False
    return keep


def _keep_global(scores: Mapping[str, torch.Tensor], ratio: float) -> Keep:
    """Remove the lowest round(ratio * all channels) scores pooled over the layers, except each
    layer's best channel, which is never removed."""
    names = list(scores)
    pooled = torch.cat([_protect_best(scores[name]) for name in names])
    total = sum(scores[name].numel() for name in names)
    count = min(removal_count(ratio, total), total - len(names))
    flat = torch.ones(total, dtype=torch.bool)
    flat[torch.sort(pooled, stable=True).indices[:count]] = False
    sizes = [scores[name].numel() for name in names]
    return {name: part.clone() for name, part in zip(names, torch.split(flat, sizes))}


def _protect_best(score: torch.Tensor) -> torch.Tensor:
    """Scores as float64 with the layer's best channel raised to +inf, so that it sorts last.

    The best is the one a stable ascending sort puts last: among equal top scores, the highest
    index, consistent with lower indices being removed first."""
    protected = score.to(torch.float64).clone()
    protected[torch.sort(score, stable=True).indices[-1]] = float("inf")
    return protected
