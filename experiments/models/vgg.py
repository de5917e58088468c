"""VGG-16 and VGG-19 for CIFAR-10 with batch norm, as in Frankle et al. (2020) and open_lth.

The convolutional stack of Simonyan & Zisserman (2015), each 3x3 conv followed by batch norm and
ReLU, with max-pooling between groups; after it, global average pooling and a single Linear
classifier from 512 features (no 4096-unit layers).  Convolutions have no bias because the batch
norm after each one has its own.  On CIFAR-10: VGG-16 14,724,042 and VGG-19 20,035,018 parameters
(14.7M and 20.0M, as Frankle et al. report).
"""

from __future__ import annotations

from torch import Tensor, nn

# Widths of the 3x3 convolutions, in groups; a 2x2 max-pool separates consecutive groups.
VGG_GROUPS = {
    "vgg16": ((64,) * 2, (128,) * 2, (256,) * 3, (512,) * 3, (512,) * 3),
    "vgg19": ((64,) * 2, (128,) * 2, (256,) * 4, (512,) * 4, (512,) * 4),
}


def kaiming_normal_init(model: nn.Module) -> None:
    """He (Kaiming) normal weights for ReLU (fan-in), zero biases, batch norm weight 1 / bias 0.

    Draws from torch's global RNG, so ``torch.manual_seed(s)`` beforehand makes it repeatable.
    """
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.Conv1d, nn.Conv2d)):
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)


class VGG(nn.Module):
    """(N, C, H, W) -> conv stack -> global average pool -> Linear -> (N, num_classes)."""

    def __init__(self, name: str, input_shape: tuple[int, ...], num_classes: int, groups: tuple):
        super().__init__()
        smallest = 2 ** (len(groups) - 1)  # each pool halves the resolution
        if len(input_shape) != 3 or min(input_shape[1:]) < smallest:
            raise ValueError(
                f"model {name}: needs an image input (C, H, W) with H, W >= {smallest}, "
                f"got {tuple(input_shape)}"
            )
        layers: list[nn.Module] = []
        channels = input_shape[0]
        for index, group in enumerate(groups):
            if index > 0:
                layers.append(nn.MaxPool2d(2))
            for width in group:
                layers += [
                    nn.Conv2d(channels, width, 3, padding=1, bias=False),
                    nn.BatchNorm2d(width),
                    nn.ReLU(),
                ]
                channels = width
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)  # on 32x32 inputs the stack ends at 2x2
        self.classifier = nn.Linear(channels, num_classes)
        kaiming_normal_init(self)

    def forward(self, x: Tensor) -> Tensor:
        features = self.pool(self.features(x)).flatten(1)  # (N, 512)
        return self.classifier(features)


def vgg16(input_shape: tuple[int, ...], num_classes: int) -> VGG:
    return VGG("vgg16", input_shape, num_classes, VGG_GROUPS["vgg16"])


def vgg19(input_shape: tuple[int, ...], num_classes: int) -> VGG:
    return VGG("vgg19", input_shape, num_classes, VGG_GROUPS["vgg19"])
