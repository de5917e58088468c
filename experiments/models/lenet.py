"""LeNet-300-100: the fully connected MNIST network of LeCun et al. (1998) that Frankle & Carbin
(2019) prune; 266,610 parameters on 28x28 inputs."""

from __future__ import annotations

from experiments.models.mlp import MLP

LENET_HIDDEN = (300, 100)


def lenet300_100(input_shape: tuple[int, ...], num_classes: int) -> MLP:
    """An MLP with hidden widths 300 and 100, Glorot-initialised like the paper."""
    return MLP(input_shape, num_classes, hidden=LENET_HIDDEN)
