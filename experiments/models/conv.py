"""Conv-2, Conv-4 and Conv-6: the VGG-like CIFAR-10 networks of Frankle & Carbin (2019), and
``convnet``, the same layout with free widths for small nets (MNIST-1D).

Each stage is two 3x3 convolutions (same padding, ReLU) followed by 2x2 max-pooling, with widths
64 / 64,128 / 64,128,256 for Conv-2/4/6; then fully connected layers of 256 and 256 units and the
output layer.  On CIFAR-10 they have 4,301,642 / 2,425,930 / 2,262,602 parameters.  (The paper's
table gives 4.3M / 2.4M / 1.7M; the first two agree, but this layout cannot give 1.7M for Conv-6,
whose flattened 256x4x4 features alone feed a 1.05M-weight layer.)

With ``batch_norm: true`` every convolution is followed by batch norm (scale 1, shift 0 at
initialisation) before its ReLU, and loses its bias, which the batch norm's shift makes redundant
(as in VGG).  Network slimming (Liu et al. 2017) prunes channels by these batch-norm scales.

Images (C, H, W) use Conv2d.  One-dimensional signals, (L,) or (C, L) such as MNIST-1D, use the
same layout with Conv1d and 3-tap kernels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from torch import Tensor, nn

from experiments.models.mlp import check_layer_sizes, fully_connected_layers, glorot_normal_init

CONV_STAGE_WIDTHS = {"conv2": (64,), "conv4": (64, 128), "conv6": (64, 128, 256)}
CONV_FC_HIDDEN = (256, 256)
BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d)


class ConvNet(nn.Module):
    """Stages of (conv, [BN], ReLU, conv, [BN], ReLU, max-pool), then Linear+ReLU layers and a
    Linear output."""

    def __init__(
        self,
        name: str,
        input_shape: tuple[int, ...],
        num_classes: int,
        stage_widths: tuple[int, ...],
        fc_hidden: tuple[int, ...] = CONV_FC_HIDDEN,
        batch_norm: bool = False,
    ):
        super().__init__()
        # A bare signal (L,) is one channel; keep the shape that forward() reshapes inputs to.
        self.input_shape = tuple(input_shape) if len(input_shape) > 1 else (1, *input_shape)
        if len(self.input_shape) not in (2, 3):
            raise ValueError(
                f"model {name}: input shape must be (L,), (C, L) or (C, H, W), got {input_shape}"
            )
        if not isinstance(batch_norm, bool):
            raise ValueError(
                f"model {name}: 'batch_norm' must be true or false, got {batch_norm!r}"
            )
        spatial = [size // 2 ** len(stage_widths) for size in self.input_shape[1:]]
        if min(spatial) < 1:
            raise ValueError(
                f"model {name}: input {input_shape} is too small for "
                f"{len(stage_widths)} 2x poolings"
            )
        layers = _conv_stages(self.input_shape[0], stage_widths, len(self.input_shape) - 1,
                              batch_norm)
        widths = [stage_widths[-1] * math.prod(spatial), *fc_hidden]
        layers += [nn.Flatten(), *fully_connected_layers(widths, num_classes)]
        self.layers = nn.Sequential(*layers)
        init_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        # (N, *input_shape) -> (N, C, *spatial) -> (N, num_classes)
        return self.layers(x.reshape(x.shape[0], *self.input_shape))


def init_weights(model: nn.Module) -> None:
    """Glorot normal weights, zero biases, batch norm scale 1 and shift 0 with fresh statistics.

    Draws from torch's global RNG, so ``torch.manual_seed(s)`` beforehand makes it repeatable.
    """
    glorot_normal_init(model)
    for module in model.modules():
        if isinstance(module, BATCH_NORMS):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
            module.reset_running_stats()


def _conv_stages(
    in_channels: int, stage_widths: tuple[int, ...], dims: int, batch_norm: bool
) -> list[nn.Module]:
    conv, norm, pool = ((nn.Conv2d, nn.BatchNorm2d, nn.MaxPool2d) if dims == 2
                        else (nn.Conv1d, nn.BatchNorm1d, nn.MaxPool1d))
    layers: list[nn.Module] = []
    for width in stage_widths:
        for fan_in in (in_channels, width):
            layers.append(conv(fan_in, width, 3, padding=1, bias=not batch_norm))
            layers += [norm(width), nn.ReLU()] if batch_norm else [nn.ReLU()]
        layers.append(pool(2))
        in_channels = width
    return layers


def conv2(input_shape: tuple[int, ...], num_classes: int, batch_norm: bool = False) -> ConvNet:
    return ConvNet("conv2", input_shape, num_classes, CONV_STAGE_WIDTHS["conv2"],
                   batch_norm=batch_norm)


def conv4(input_shape: tuple[int, ...], num_classes: int, batch_norm: bool = False) -> ConvNet:
    return ConvNet("conv4", input_shape, num_classes, CONV_STAGE_WIDTHS["conv4"],
                   batch_norm=batch_norm)


def conv6(input_shape: tuple[int, ...], num_classes: int, batch_norm: bool = False) -> ConvNet:
    return ConvNet("conv6", input_shape, num_classes, CONV_STAGE_WIDTHS["conv6"],
                   batch_norm=batch_norm)


def convnet(
    input_shape: tuple[int, ...],
    num_classes: int,
    stage_widths: Sequence[int] = (16, 32),
    fc_hidden: Sequence[int] = (64,),
    batch_norm: bool = False,
) -> ConvNet:
    """The Conv-n layout with the config's stage widths and hidden widths (may be empty)."""
    stages = check_layer_sizes("convnet", "stage_widths", stage_widths)
    if not stages:
        raise ValueError("model convnet: 'stage_widths' needs at least one stage")
    hidden = check_layer_sizes("convnet", "fc_hidden", fc_hidden)
    return ConvNet("convnet", input_shape, num_classes, stages, hidden, batch_norm)
