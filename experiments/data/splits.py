"""Splitting off the validation examples, per-channel normalisation statistics, and batching."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor

from experiments.data.containers import Split
from experiments.data.errors import DatasetSpecError


def hold_out(x: Tensor, y: Tensor, count: int, split_seed: int, name: str) -> tuple[Split, Split]:
    """Split the training arrays into (train, validation) with `count` seeded random examples."""
    if count >= len(y):
        raise DatasetSpecError(
            f"dataset: 'validation' ({count}) must be below the {name} training size ({len(y)})"
        )
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(split_seed))
    # Sorted so both parts keep the file's order, which makes the split easy to inspect.
    val_idx, train_idx = order[:count].sort().values, order[count:].sort().values
    return Split(x[train_idx], y[train_idx]), Split(x[val_idx], y[val_idx])


def channel_stats(x: Tensor) -> tuple[Tensor, Tensor]:
    """Mean and std per channel (dim 1 of images), or over everything for (N, L) signals;
    shaped to broadcast against a batch: (1, C, 1, 1) or (1, 1)."""
    dims = [0, *range(2, x.dim())] if x.dim() >= 3 else list(range(x.dim()))
    mean = x.mean(dim=dims, keepdim=True)
    std = x.std(dim=dims, keepdim=True).clamp_min(1e-8)  # a constant channel must not divide by 0
    return mean, std


def iterate_batches(
    split: Split, batch_size: int, generator: torch.Generator
) -> Iterator[tuple[Tensor, Tensor]]:
    """One epoch over `split` in an order drawn from `generator`; the last batch may be short."""
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    order = torch.randperm(len(split.y), generator=generator, device=generator.device)
    order = order.to(split.y.device)
    for start in range(0, len(order), batch_size):
        indices = order[start : start + batch_size]
        yield split.x[indices], split.y[indices]
