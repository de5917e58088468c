"""ResNet-20 for CIFAR-10 (He et al., 2016, section 4.2): a 3x3 conv of 16 channels, three stages
of three basic blocks with 16, 32 and 64 channels (the first block of stages 2 and 3 halves the
resolution), global average pooling and a Linear classifier; batch norm after every conv.

Shortcuts where the shape changes are 1x1 convolutions with batch norm by default
(``shortcut: projection``, as open_lth and Frankle et al. (2020) use; 272,474 parameters), or
He et al.'s parameter-free option A (``shortcut: padding``: subsample and zero-pad channels;
269,722 parameters).  Convolutions have no bias: batch norm follows each of them.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from experiments.models.vgg import kaiming_normal_init

RESNET20_WIDTHS = (16, 32, 64)
RESNET20_BLOCKS_PER_STAGE = 3
SHORTCUTS = ("projection", "padding")


class PaddingShortcut(nn.Module):
    """Option A: keep every `stride`-th pixel and append zero channels up to `out_channels`."""

    def __init__(self, in_channels: int, out_channels: int, stride: int):
        super().__init__()
        self.extra_channels = out_channels - in_channels
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        x = x[:, :, :: self.stride, :: self.stride]
        return F.pad(x, (0, 0, 0, 0, 0, self.extra_channels))  # pads dim 1 (channels) at the end


class BasicBlock(nn.Module):
    """relu(bn(conv(relu(bn(conv(x))))) + shortcut(x)) with two 3x3 convolutions."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, shortcut: str):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = (
                nn.Sequential(
                    nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                    nn.BatchNorm2d(out_channels),
                )
                if shortcut == "projection"
                else PaddingShortcut(in_channels, out_channels, stride)
            )

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class CifarResNet(nn.Module):
    """(N, C, H, W) -> stem -> stages of basic blocks -> global average pool -> Linear."""

    def __init__(
        self,
        input_shape: tuple[int, ...],
        num_classes: int,
        widths: tuple[int, ...] = RESNET20_WIDTHS,
        blocks_per_stage: int = RESNET20_BLOCKS_PER_STAGE,
        shortcut: str = "projection",
    ):
        super().__init__()
        if shortcut not in SHORTCUTS:
            raise ValueError(
                f"model resnet20: 'shortcut' must be {' or '.join(SHORTCUTS)}, got {shortcut!r}"
            )
        if len(input_shape) != 3:
            raise ValueError(
                f"model resnet20: needs an image input (C, H, W), got {tuple(input_shape)}"
            )
        self.stem = nn.Sequential(
            nn.Conv2d(input_shape[0], widths[0], 3, padding=1, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(),
        )
        blocks: list[nn.Module] = []
        channels = widths[0]
        for stage, width in enumerate(widths):
            for index in range(blocks_per_stage):
                stride = 2 if stage > 0 and index == 0 else 1
                blocks.append(BasicBlock(channels, width, stride, shortcut))
                channels = width
        self.blocks = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(channels, num_classes)
        kaiming_normal_init(self)

    def forward(self, x: Tensor) -> Tensor:
        features = self.pool(self.blocks(self.stem(x))).flatten(1)  # (N, 64)
        return self.classifier(features)


def resnet20(
    input_shape: tuple[int, ...], num_classes: int, shortcut: str = "projection"
) -> CifarResNet:
    return CifarResNet(input_shape, num_classes, shortcut=shortcut)
