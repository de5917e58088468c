"""Fully connected ReLU networks and the Glorot initialisation Frankle & Carbin (2019) use for
their MLPs and Conv-n networks."""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise

import torch
from torch import Tensor, nn


def glorot_normal_init(model: nn.Module) -> None:
    """Glorot/Xavier normal weights and zero biases for every Linear and Conv layer of `model`.

    Draws from torch's global RNG, so ``torch.manual_seed(s)`` beforehand makes it repeatable.
    """
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.Conv1d, nn.Conv2d)):
            nn.init.xavier_normal_(module.weight)
            if module.bias is not None:
                nn.init.zeros_(module.bias)


def check_layer_sizes(model_name: str, option: str, sizes: Sequence[int]) -> tuple[int, ...]:
    """Validate a list-of-widths option from the config and return it as a tuple."""
    if (
        isinstance(sizes, (str, bytes))
        or not isinstance(sizes, Sequence)
        or not all(
            isinstance(size, int) and not isinstance(size, bool) and size >= 1 for size in sizes
        )
    ):
        raise ValueError(
            f"model {model_name}: '{option}' must be a list of positive ints, got {sizes!r}"
        )
    return tuple(sizes)


def fully_connected_layers(widths: Sequence[int], num_classes: int) -> list[nn.Module]:
    """Linear+ReLU between consecutive `widths`, then the Linear output layer (the last Linear,
    which the pruning code treats as the output layer)."""
    layers: list[nn.Module] = []
    for fan_in, fan_out in pairwise(widths):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    layers.append(nn.Linear(widths[-1], num_classes))
    return layers


class MLP(nn.Module):
    """Flatten, then Linear+ReLU for each hidden width, then a Linear output layer.

    Works for any input shape: (N, *input_shape) -> (N, num_classes). With ``residual``, a hidden
    layer as wide as its input adds that input to its output, h <- h + relu(W h + b), as the
    MNIST-1D lottery notebook's MLP does for its second layer (Greydanus 2020).
    """

    def __init__(
        self, input_shape: tuple[int, ...], num_classes: int, hidden: Sequence[int] = (100, 100),
        residual: bool = False,
    ):
        super().__init__()
        self.hidden = check_layer_sizes("mlp", "hidden", hidden)
        widths = [math.prod(input_shape), *self.hidden]
        self.layers = nn.Sequential(nn.Flatten(), *fully_connected_layers(widths, num_classes))
        # Per Linear layer: whether its input is added to its output (never the output layer's).
        hidden_skips = (residual and fan_in == fan_out for fan_in, fan_out in pairwise(widths))
        self.skips = (*hidden_skips, False)
        glorot_normal_init(self)

    def forward(self, x: Tensor) -> Tensor:
        if not any(self.skips):
            return self.layers(x)
        linears = [module for module in self.layers if isinstance(module, nn.Linear)]
        hidden = x.flatten(1)
        for layer, skip in zip(linears[:-1], self.skips):
            out = torch.relu(layer(hidden))
            hidden = hidden + out if skip else out
        return linears[-1](hidden)
