"""Conv-2, Conv-4 and Conv-6: the VGG-like CIFAR-10 networks of Frankle & Carbin (2019).

Each stage is two 3x3 convolutions (same padding, ReLU) followed by 2x2 max-pooling, with widths
64 / 64,128 / 64,128,256 for Conv-2/4/6; then fully connected layers of 256 and 256 units and the
output layer.  On CIFAR-10 they have 4,301,642 / 2,425,930 / 2,262,602 parameters.  (The paper's
table gives 4.3M / 2.4M / 1.7M; the first two agree, but this layout cannot give 1.7M for Conv-6,
whose flattened 256x4x4 features alone feed a 1.05M-weight layer.)

Images (C, H, W) use Conv2d.  One-dimensional signals, (L,) or (C, L) such as MNIST-1D, use the
same layout with Conv1d and 3-tap kernels.
"""

from __future__ import annotations

import math

from torch import Tensor, nn

from experiments.models.mlp import fully_connected_layers, glorot_normal_init

CONV_STAGE_WIDTHS = {"conv2": (64,), "conv4": (64, 128), "conv6": (64, 128, 256)}
CONV_FC_HIDDEN = (256, 256)


class ConvNet(nn.Module):
    """Stages of (conv, ReLU, conv, ReLU, max-pool), then Linear+ReLU layers and a Linear output."""

    def __init__(
        self,
        name: str,
        input_shape: tuple[int, ...],
        num_classes: int,
        stage_widths: tuple[int, ...],
        fc_hidden: tuple[int, ...] = CONV_FC_HIDDEN,
    ):
        super().__init__()
        # A bare signal (L,) is one channel; keep the shape that forward() reshapes inputs to.
        self.input_shape = tuple(input_shape) if len(input_shape) > 1 else (1, *input_shape)
        if len(self.input_shape) not in (2, 3):
            raise ValueError(
                f"model {name}: input shape must be (L,), (C, L) or (C, H, W), got {input_shape}"
            )
        conv, pool = (
            (nn.Conv2d, nn.MaxPool2d) if len(self.input_shape) == 3 else (nn.Conv1d, nn.MaxPool1d)
        )
        spatial = [size // 2 ** len(stage_widths) for size in self.input_shape[1:]]
        if min(spatial) < 1:
            raise ValueError(
                f"model {name}: input {input_shape} is too small for "
                f"{len(stage_widths)} 2x poolings"
            )
        layers = _conv_stages(self.input_shape[0], stage_widths, conv, pool)
        widths = [stage_widths[-1] * math.prod(spatial), *fc_hidden]
        layers += [nn.Flatten(), *fully_connected_layers(widths, num_classes)]
        self.layers = nn.Sequential(*layers)
        glorot_normal_init(self)

    def forward(self, x: Tensor) -> Tensor:
        # (N, *input_shape) -> (N, C, *spatial) -> (N, num_classes)
        return self.layers(x.reshape(x.shape[0], *self.input_shape))


def _conv_stages(
    in_channels: int, stage_widths: tuple[int, ...], conv: type, pool: type
) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for width in stage_widths:
        layers += [
            conv(in_channels, width, 3, padding=1),
            nn.ReLU(),
            conv(width, width, 3, padding=1),
            nn.ReLU(),
            pool(2),
        ]
        in_channels = width
    return layers


def conv2(input_shape: tuple[int, ...], num_classes: int) -> ConvNet:
    return ConvNet("conv2", input_shape, num_classes, CONV_STAGE_WIDTHS["conv2"])


def conv4(input_shape: tuple[int, ...], num_classes: int) -> ConvNet:
    return ConvNet("conv4", input_shape, num_classes, CONV_STAGE_WIDTHS["conv4"])


def conv6(input_shape: tuple[int, ...], num_classes: int) -> ConvNet:
    return ConvNet("conv6", input_shape, num_classes, CONV_STAGE_WIDTHS["conv6"])
