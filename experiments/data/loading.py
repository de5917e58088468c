"""The dataset registry (name -> loader of raw arrays) and `load_dataset`, which turns a loader's
arrays into a split, normalised `Dataset` on the device."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch

from experiments.data.augment import RandomCropFlip
from experiments.data.cifar10 import load_cifar10
from experiments.data.classes import NUM_CLASSES
from experiments.data.containers import Dataset, RawArrays, Split
from experiments.data.errors import DatasetSpecError
from experiments.data.idx import load_idx_dataset
from experiments.data.mnist1d import load_mnist1d
from experiments.data.spec import common_options
from experiments.data.splits import channel_stats, hold_out

LOADERS: dict[str, Callable[[dict, Path], RawArrays]] = {
    "mnist1d": load_mnist1d,
    "mnist": lambda spec, root: load_idx_dataset(_torchvision_datasets().MNIST, spec, root),
    "fashion_mnist": lambda spec, root: load_idx_dataset(
        _torchvision_datasets().FashionMNIST, spec, root
    ),
    "cifar10": load_cifar10,
}


def _torchvision_datasets():
    # Imported on use: torchvision takes about a second to import (it loads torch._dynamo),
    # which every MNIST-1D trial would otherwise pay.
    import torchvision.datasets

    return torchvision.datasets


def load_dataset(
    spec: dict, data_root: str | Path, device: torch.device | str, seed: int
) -> Dataset:
    """Load the dataset that the config's ``dataset`` mapping names, split, normalised, on `device`.

    `seed` is the trial seed.  The data deliberately do not depend on it: the validation split
    comes from ``spec["split_seed"]`` (default 0) so that all trial seeds share one split, and
    augmentation randomness comes from the generator passed to ``augment`` at each call.
    """
    if not isinstance(seed, int):
        raise DatasetSpecError(f"trial seed must be an int, got {seed!r}")
    name, validation, split_seed, wants_augment = common_options(spec, LOADERS)
    raw = LOADERS[name](spec, Path(data_root))
    train, val = hold_out(raw.train_x, raw.train_y, validation, split_seed, name)
    mean, std = channel_stats(train.x)
    device = torch.device(device)

    def to_device(split: Split) -> Split:
        return Split(((split.x - mean) / std).to(device), split.y.to(device))

    augment = RandomCropFlip((0.0 - mean.flatten()) / std.flatten()) if wants_augment else None
    return Dataset(
        name=name,
        train=to_device(train),
        val=to_device(val),
        test=to_device(Split(raw.test_x, raw.test_y)),
        num_classes=NUM_CLASSES,
        input_shape=tuple(raw.train_x.shape[1:]),
        augment=augment,
    )
