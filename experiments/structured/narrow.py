"""The physically smaller network that channel pruning leaves, and the same cut as a mask.

`narrow(model, keep)` builds a new model whose convolutions have only the kept channels: each
convolution keeps its kept filters (weights and bias), reading only the kept channels of the
convolution before it; its batch norm keeps the scale, shift and running statistics of the kept
channels; the first Linear layer keeps the input features that the kept channels of the last
convolution produce. Everything else is copied unchanged. In eval mode the narrow model computes
exactly what the dense model computes once the removed channels are silenced (their filters, bias,
batch-norm scale and shift set to zero), and in train mode as well, since a silenced channel stays
zero through batch norm whatever the batch statistics.

`channel_mask(model, keep)` is the same cut in the dense model's shapes: the weights of removed
filters and the weights reading removed channels are False. Its density is the fraction of
prunable weights the narrow model has, which is what a rounds.csv row reports.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from experiments.masks import Mask, dense_mask
from experiments.models.conv import BATCH_NORMS, ConvNet, init_weights
from experiments.models.vgg import VGG, kaiming_normal_init
from experiments.structured.channels import ChannelStructure, Keep, channel_structure


def narrow(model: nn.Module, keep: Keep) -> nn.Module:
    """A new model with only the kept channels and their weights; ``model`` is left unchanged."""
    structure = channel_structure(model)
    _check_keep(structure, keep)
    small = copy.deepcopy(model)
    inputs = torch.arange(model.get_submodule(structure.layers[0].conv).in_channels)
    for layer in structure.layers:
        outputs = keep[layer.conv].nonzero().squeeze(1)
        _replace(small, layer.conv, _sliced_conv(model.get_submodule(layer.conv), inputs, outputs))
        if layer.norm is not None:
            _replace(small, layer.norm, _sliced_norm(model.get_submodule(layer.norm), outputs))
        inputs = outputs
    features = _feature_indices(inputs, structure.positions)
    _replace(small, structure.linear, _sliced_linear(model.get_submodule(structure.linear),
                                                     features))
    return small


def channel_mask(model: nn.Module, keep: Keep) -> Mask:
    """The mask, in ``model``'s shapes, of the weights that ``narrow(model, keep)`` keeps."""
    structure = channel_structure(model)
    _check_keep(structure, keep)
    mask = dense_mask(model)
    previous: torch.Tensor | None = None
    for layer in structure.layers:
        kept = mask[f"{layer.conv}.weight"]  # (out, in, *kernel)
        kept[~keep[layer.conv]] = False
        if previous is not None:
            kept[:, ~previous] = False
        previous = keep[layer.conv]
    columns = previous.repeat_interleave(structure.positions)
    mask[f"{structure.linear}.weight"][:, ~columns] = False
    return mask


def fresh_init(model: nn.Module) -> None:
    """Re-initialise ``model`` (a narrow one too) the way its architecture is initialised when
    built, batch-norm statistics included. Draws from torch's global RNG: seed it first."""
    if isinstance(model, ConvNet):
        init_weights(model)
    elif isinstance(model, VGG):
        kaiming_normal_init(model)
    else:
        raise TypeError(f"no initialisation known for {type(model).__name__}")
    for module in model.modules():
        if isinstance(module, BATCH_NORMS):
            module.reset_running_stats()


def _check_keep(structure: ChannelStructure, keep: Keep) -> None:
    names = [layer.conv for layer in structure.layers]
    if sorted(keep) != sorted(names):
        raise ValueError(f"keep names {sorted(keep)}, the model's convolutions are {names}")
    for layer in structure.layers:
        flags = keep[layer.conv]
        if flags.dtype != torch.bool or tuple(flags.shape) != (layer.channels,):
            raise ValueError(f"keep[{layer.conv!r}] must be a bool tensor of shape "
                             f"({layer.channels},), got {flags.dtype} {tuple(flags.shape)}")
        if not flags.any():
            raise ValueError(f"keep[{layer.conv!r}] removes every channel of the layer")


def _feature_indices(channels: torch.Tensor, positions: int) -> torch.Tensor:
    """Flattened (channel-major) feature indices of the given channels."""
    return (channels[:, None] * positions + torch.arange(positions)).flatten()


def _replace(model: nn.Module, name: str, module: nn.Module) -> None:
    parent, _, child = name.rpartition(".")
    setattr(model.get_submodule(parent) if parent else model, child, module)


def _sliced_conv(conv: nn.Module, inputs: torch.Tensor, outputs: torch.Tensor) -> nn.Module:
    weight = conv.weight.detach()
    new = type(conv)(len(inputs), len(outputs), conv.kernel_size, stride=conv.stride,
                     padding=conv.padding, dilation=conv.dilation, bias=conv.bias is not None,
                     padding_mode=conv.padding_mode, device=weight.device, dtype=weight.dtype)
    with torch.no_grad():
        rows = weight.index_select(0, outputs.to(weight.device))
        new.weight.copy_(rows.index_select(1, inputs.to(weight.device)))
        if conv.bias is not None:
            new.bias.copy_(conv.bias.detach()[outputs.to(weight.device)])
    return new.train(conv.training)


def _sliced_norm(norm: nn.Module, outputs: torch.Tensor) -> nn.Module:
    reference = norm.weight if norm.weight is not None else norm.running_mean
    new = type(norm)(len(outputs), eps=norm.eps, momentum=norm.momentum, affine=norm.affine,
                     track_running_stats=norm.track_running_stats, device=reference.device,
                     dtype=reference.dtype)
    index = outputs.to(reference.device)
    with torch.no_grad():
        for name in ("weight", "bias", "running_mean", "running_var"):
            source = getattr(norm, name)
            if source is not None:
                getattr(new, name).copy_(source.detach()[index])
        if norm.num_batches_tracked is not None:
            new.num_batches_tracked.copy_(norm.num_batches_tracked)
    return new.train(norm.training)


def _sliced_linear(linear: nn.Linear, features: torch.Tensor) -> nn.Linear:
    weight = linear.weight.detach()  # (out, in)
    new = nn.Linear(len(features), linear.out_features, bias=linear.bias is not None,
                    device=weight.device, dtype=weight.dtype)
    with torch.no_grad():
        new.weight.copy_(weight.index_select(1, features.to(weight.device)))
        if linear.bias is not None:
            new.bias.copy_(linear.bias.detach())
    return new.train(linear.training)
