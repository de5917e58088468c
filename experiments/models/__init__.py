"""Model registry: the config's ``model`` mapping (``name`` plus that model's options) -> nn.Module.

Conventions the pruning code relies on: every prunable layer is an ``nn.Linear``, ``nn.Conv1d`` or
``nn.Conv2d`` whose ``weight`` is pruned; the last ``nn.Linear`` in module order is the output
layer; no weight parametrizations.  Initialisation draws from torch's global RNG, so
``torch.manual_seed(s)`` before `build_model` makes it repeatable.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from experiments.models.conv import conv2, conv4, conv6, convnet
from experiments.models.lenet import lenet300_100
from experiments.models.mlp import MLP
from experiments.models.resnet import resnet20
from experiments.models.vgg import vgg16, vgg19

# Each constructor takes (input_shape, num_classes, **options from the config).
MODELS: dict[str, Callable[..., nn.Module]] = {
    "mlp": MLP,  # option hidden: list of widths, default [100, 100]
    "lenet300_100": lenet300_100,  # Frankle & Carbin's MNIST MLP, 300-100
    "conv2": conv2,  # Frankle & Carbin's Conv-2
    "conv4": conv4,  # Frankle & Carbin's Conv-4
    "conv6": conv6,  # Frankle & Carbin's Conv-6
    "convnet": convnet,  # Conv-n layout with options stage_widths, fc_hidden, batch_norm
    "vgg16": vgg16,  # CIFAR VGG-16 with batch norm
    "vgg19": vgg19,  # CIFAR VGG-19 with batch norm
    "resnet20": resnet20,  # He et al.'s CIFAR ResNet-20; option shortcut: projection | padding
}


class ModelSpecError(ValueError):
    """The config's ``model`` mapping names an unknown model or option."""


def build_model(spec: dict, input_shape: tuple[int, ...], num_classes: int) -> nn.Module:
    """Build the model ``spec["name"]`` with the remaining keys of `spec` (validated by
    experiments/config.py) as its options."""
    name = spec.get("name")
    if name not in MODELS:
        raise ModelSpecError(f"model: unknown name {name!r}; known: {', '.join(sorted(MODELS))}")
    # Which options belong to which model, and which a model needs, is checked once, when the
    # experiment set loads (experiments/config.py, at the config's line; types in the schema).
    options = {key: value for key, value in spec.items() if key != "name"}
    constructor = MODELS[name]
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ModelSpecError(
            f"model {name}: num_classes must be a positive int, got {num_classes!r}"
        )
    try:
        return constructor(tuple(input_shape), num_classes, **options)
    except ValueError as err:
        raise ModelSpecError(str(err)) from err
