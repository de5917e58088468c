"""Data augmentation applied on the device to whole batches (CIFAR-10 only)."""

from __future__ import annotations

import torch
from torch import Tensor

CIFAR10_PADDING = 4


class RandomCropFlip:
    """CIFAR augmentation on the device for a whole batch: pad by `padding` pixels with black,
    crop back at a random offset and flip left-right with probability 1/2 (He et al., 2016)."""

    def __init__(self, pad_value: Tensor, padding: int = CIFAR10_PADDING):
        self.pad_value = pad_value  # (C,): a black pixel in normalised units, per channel
        self.padding = padding

    def __call__(self, x: Tensor, generator: torch.Generator) -> Tensor:
        n, channels, height, width = x.shape  # x: (N, C, H, W)
        pad = self.padding
        padded = self.pad_value.to(x.device, x.dtype).view(1, channels, 1, 1)
        padded = padded.expand(n, channels, height + 2 * pad, width + 2 * pad).clone()
        padded[:, :, pad : pad + height, pad : pad + width] = x
        # Draw on the generator's device so a CPU generator drives a GPU batch reproducibly.
        offsets = torch.randint(
            0, 2 * pad + 1, (2, n), generator=generator, device=generator.device
        )
        flips = torch.rand(n, generator=generator, device=generator.device) < 0.5
        offsets, flips = offsets.to(x.device), flips.to(x.device)
        rows = offsets[0, :, None] + torch.arange(height, device=x.device)  # (N, H)
        cols = offsets[1, :, None] + torch.arange(width, device=x.device)  # (N, W)
        # Advanced indices split by a slice put their dims first: (N, H, W, C).
        crops = padded[
            torch.arange(n, device=x.device)[:, None, None], :, rows[:, :, None], cols[:, None, :]
        ]
        crops = crops.permute(0, 3, 1, 2)
        return torch.where(flips[:, None, None, None], crops.flip(3), crops)
