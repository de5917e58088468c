"""What loaders return (`RawArrays`) and what training reads (`Dataset` of `Split`s)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor



@dataclass
class Split:
    x: Tensor  # (N, *input_shape) float32 on the device, normalised
    y: Tensor  # (N,) int64 class indices on the device

    def __len__(self) -> int:
        return len(self.y)


@dataclass
class Dataset:
    name: str
    train: Split
    val: Split
    test: Split
    num_classes: int
    input_shape: tuple[int, ...]
    augment: Callable[[Tensor, torch.Generator], Tensor] | None


@dataclass
class RawArrays:
    """Unnormalised arrays on the CPU, as read: x float32 (N, *input_shape), y int64 (N,)."""

    train_x: Tensor
    train_y: Tensor
    test_x: Tensor
    test_y: Tensor
