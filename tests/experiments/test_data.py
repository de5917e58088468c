"""Tests for experiments.data on tiny generated or hand-written files in the real formats."""

from __future__ import annotations

import pickle
import random

import numpy as np
import pytest
import torch
import torchvision

import experiments.data as data
import experiments.data.mnist1d as mnist1d
from experiments.data import (
    DatasetFormatError,
    DatasetSpecError,
    DatasetUnavailable,
    Split,
    iterate_batches,
    load_dataset,
)
from experiments.data.cifar10 import read_cifar_batch
from tests.experiments.datafiles import write_cifar10, write_mnist

CPU = torch.device("cpu")
MNIST1D_SPEC = {"name": "mnist1d", "num_samples": 400, "validation": 50}


def correlation(a: torch.Tensor, b: np.ndarray) -> float:
    """Pearson correlation of two equally sized arrays, flattened."""
    pair = torch.stack([a.flatten().double(), torch.as_tensor(b).flatten().double()])
    return torch.corrcoef(pair)[0, 1].item()


# ------------------------------------------------------------------------------------- MNIST-1D


def test_mnist1d_has_the_asked_splits_and_is_normalised(tmp_path):
    dataset = load_dataset(MNIST1D_SPEC, tmp_path, CPU, seed=0)
    assert (len(dataset.train), len(dataset.val), len(dataset.test)) == (270, 50, 80)
    assert dataset.input_shape == (40,) and dataset.num_classes == 10 and dataset.augment is None
    assert dataset.train.x.dtype == torch.float32 and dataset.train.y.dtype == torch.int64
    assert dataset.train.x.mean().abs() < 1e-4 and (dataset.train.x.std() - 1).abs() < 1e-3
    assert set(dataset.train.y.tolist()) == set(range(10))


def test_mnist1d_is_deterministic_and_cached(tmp_path, monkeypatch):
    first = load_dataset(MNIST1D_SPEC, tmp_path, CPU, seed=0)
    caches = list((tmp_path / "mnist1d").glob("*.npz"))
    assert len(caches) == 1
    assert not [
        p for p in (tmp_path / "mnist1d").iterdir() if p.suffix != ".npz"
    ]  # no temp files left

    def must_not_regenerate(*args, **kwargs):
        raise AssertionError("MNIST-1D was regenerated despite the cache")

    monkeypatch.setattr(mnist1d, "make_dataset", must_not_regenerate)
    # Another trial seed must see the very same split: only split_seed chooses it.
    second = load_dataset(MNIST1D_SPEC, tmp_path, CPU, seed=7)
    for name in ("train", "val", "test"):
        assert torch.equal(getattr(first, name).x, getattr(second, name).x)
        assert torch.equal(getattr(first, name).y, getattr(second, name).y)


def test_mnist1d_split_seed_and_generation_args_change_the_data(tmp_path):
    base = load_dataset(MNIST1D_SPEC, tmp_path, CPU, seed=0)
    other_split = load_dataset({**MNIST1D_SPEC, "split_seed": 1}, tmp_path, CPU, seed=0)
    assert not torch.equal(base.val.y, other_split.val.y) or not torch.equal(
        base.val.x, other_split.val.x
    )
    assert torch.equal(base.test.y, other_split.test.y)  # the test set does not depend on the split
    load_dataset({**MNIST1D_SPEC, "num_samples": 300}, tmp_path, CPU, seed=0)
    assert len(list((tmp_path / "mnist1d").glob("*.npz"))) == 2


def test_mnist1d_generation_leaves_global_rngs_alone(tmp_path):
    np.random.seed(123)
    random.seed(123)
    expected = (np.random.rand(), random.random())
    np.random.seed(123)
    random.seed(123)
    load_dataset(MNIST1D_SPEC, tmp_path, CPU, seed=0)
    assert (np.random.rand(), random.random()) == expected


@pytest.mark.parametrize("damage", [lambda raw: b"not an npz archive", lambda raw: raw[:200]])
def test_corrupt_mnist1d_cache_names_the_file(tmp_path, damage):
    load_dataset(MNIST1D_SPEC, tmp_path, CPU, seed=0)
    cache = next((tmp_path / "mnist1d").glob("*.npz"))
    cache.write_bytes(damage(cache.read_bytes()))
    with pytest.raises(DatasetFormatError, match=cache.name):
        load_dataset(MNIST1D_SPEC, tmp_path, CPU, seed=0)


@pytest.mark.parametrize(
    "spec, key",
    [
        ({"name": "mnist1d", "num_samples": 400}, "validation"),
        ({**MNIST1D_SPEC, "validation": 320}, "validation"),
        ({**MNIST1D_SPEC, "validation": True}, "validation"),
        ({**MNIST1D_SPEC, "train_split": 1.5}, "train_split"),
        ({"name": "imagenet", "validation": 10}, "imagenet"),
    ],
)
def test_bad_dataset_specs_are_value_errors_naming_the_key(tmp_path, spec, key):
    with pytest.raises(DatasetSpecError, match=key):
        load_dataset(spec, tmp_path, CPU, seed=0)


# ---------------------------------------------------------------------- MNIST and Fashion-MNIST


@pytest.mark.parametrize("name, folder", [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST")])
def test_idx_datasets_load_from_torchvision_layout(tmp_path, name, folder):
    written = write_mnist(tmp_path, folder=folder, n_train=60, n_test=20)
    dataset = load_dataset({"name": name, "validation": 10}, tmp_path, CPU, seed=0)
    assert dataset.train.x.shape == (50, 1, 28, 28) and dataset.val.x.shape == (10, 1, 28, 28)
    assert dataset.input_shape == (1, 28, 28)
    assert dataset.test.y.tolist() == written["test_y"].tolist()
    assert correlation(dataset.test.x, written["test_x"]) > 0.9999  # same pixels, affinely rescaled
    held_and_kept = sorted(dataset.train.y.tolist() + dataset.val.y.tolist())
    assert held_and_kept == sorted(written["train_y"].tolist())
    assert dataset.train.x.mean().abs() < 1e-5 and (dataset.train.x.std() - 1).abs() < 1e-3


def test_missing_mnist_names_directory_and_files(tmp_path):
    with pytest.raises(DatasetUnavailable) as caught:
        load_dataset({"name": "mnist", "validation": 10}, tmp_path, CPU, seed=0)
    message = str(caught.value)
    assert str(tmp_path / "MNIST" / "raw") in message and "t10k-labels-idx1-ubyte" in message
    assert "\n" not in message


def test_failed_download_is_reported_as_unavailable(tmp_path, monkeypatch):
    def offline(self):
        raise RuntimeError(
            "Error downloading train-images-idx3-ubyte.gz:\nTried mirror, got offline"
        )

    monkeypatch.setattr(torchvision.datasets.MNIST, "download", offline)
    with pytest.raises(DatasetUnavailable, match="download failed") as caught:
        load_dataset({"name": "mnist", "validation": 10, "download": True}, tmp_path, CPU, seed=0)
    assert "\n" not in str(caught.value) and str(tmp_path / "MNIST" / "raw") in str(caught.value)


def test_truncated_idx_file_is_a_format_error(tmp_path):
    write_mnist(tmp_path)
    images = tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:1000])
    with pytest.raises(DatasetFormatError, match="train-images-idx3-ubyte"):
        load_dataset({"name": "mnist", "validation": 10}, tmp_path, CPU, seed=0)


# -------------------------------------------------------------------------------------- CIFAR-10


def test_cifar10_loads_batches_channels_first(tmp_path):
    written = write_cifar10(tmp_path, per_batch=8, n_test=10)
    dataset = load_dataset({"name": "cifar10", "validation": 5}, tmp_path, CPU, seed=0)
    assert dataset.train.x.shape == (35, 3, 32, 32) and dataset.val.x.shape == (5, 3, 32, 32)
    assert dataset.input_shape == (3, 32, 32) and dataset.augment is None
    assert dataset.test.y.tolist() == written["test_y"].tolist()
    for channel in range(3):
        assert correlation(dataset.test.x[:, channel], written["test_x"][:, channel]) > 0.9999
    per_channel_mean = dataset.train.x.mean(dim=(0, 2, 3))
    assert torch.allclose(per_channel_mean, torch.zeros(3), atol=1e-5)


def test_our_cifar_reader_agrees_with_torchvision(tmp_path, monkeypatch):
    write_cifar10(tmp_path, per_batch=4, n_test=6)
    # torchvision only refuses these files for their MD5 sums, which tiny files cannot match.
    monkeypatch.setattr(torchvision.datasets.cifar, "check_integrity", lambda *args, **kwargs: True)
    reference = torchvision.datasets.CIFAR10(tmp_path, train=False)
    images, labels = read_cifar_batch(tmp_path / "cifar-10-batches-py" / "test_batch")
    expected = torch.from_numpy(reference.data).permute(0, 3, 1, 2).float() / 255.0
    assert torch.equal(images, expected) and labels.tolist() == reference.targets


def test_missing_cifar10_names_directory_and_files(tmp_path):
    with pytest.raises(DatasetUnavailable) as caught:
        load_dataset({"name": "cifar10", "validation": 5}, tmp_path, CPU, seed=0)
    assert str(tmp_path / "cifar-10-batches-py") in str(caught.value)
    assert "data_batch_5" in str(caught.value) and "batches.meta" in str(caught.value)


@pytest.mark.parametrize(
    "entry",
    [
        {"data": np.zeros((4, 768), np.uint8), "labels": [0, 1, 2, 3]},  # 16x16 images
        {"data": np.zeros((4, 3072), np.uint8), "labels": ["cat", "dog", "cat", "dog"]},
        {"data": np.zeros((4, 3072), np.uint8), "labels": [0, 1, 2]},
        {"data": np.zeros((4, 3072), np.uint8), "labels": [0, 1, 2, 10]},
    ],
)
def test_malformed_cifar_batch_names_the_file(tmp_path, entry):
    write_cifar10(tmp_path)
    batch = tmp_path / "cifar-10-batches-py" / "data_batch_3"
    batch.write_bytes(pickle.dumps(entry, protocol=2))
    with pytest.raises(DatasetFormatError, match="data_batch_3"):
        load_dataset({"name": "cifar10", "validation": 5}, tmp_path, CPU, seed=0)


class _RunsCode:
    """A pickle that would call print() on load: the reader must refuse any such global."""

    def __reduce__(self):
        return (print, ("code ran while loading data",))


def test_cifar_reader_refuses_code_in_pickles(tmp_path, capsys):
    write_cifar10(tmp_path)
    batch = tmp_path / "cifar-10-batches-py" / "test_batch"
    batch.write_bytes(pickle.dumps({"data": _RunsCode(), "labels": []}, protocol=2))
    with pytest.raises(DatasetFormatError, match="test_batch"):
        load_dataset({"name": "cifar10", "validation": 5}, tmp_path, CPU, seed=0)
    assert "code ran" not in capsys.readouterr().out


# -------------------------------------------------------------------------------- augmentation


def all_crops_and_flips(
    image: torch.Tensor, pad_value: torch.Tensor, padding: int
) -> list[torch.Tensor]:
    """Every output the augmentation may produce for one (C, H, W) image."""
    channels, height, width = image.shape
    padded = (
        pad_value.view(channels, 1, 1)
        .expand(channels, height + 2 * padding, width + 2 * padding)
        .clone()
    )
    padded[:, padding : padding + height, padding : padding + width] = image
    crops = [
        padded[:, top : top + height, left : left + width]
        for top in range(2 * padding + 1)
        for left in range(2 * padding + 1)
    ]
    return crops + [crop.flip(2) for crop in crops]


def test_cifar_augmentation_crops_flips_and_is_seeded(tmp_path):
    write_cifar10(tmp_path)
    dataset = load_dataset(
        {"name": "cifar10", "validation": 5, "augment": True}, tmp_path, CPU, seed=0
    )
    batch = dataset.train.x[:6]
    augmented = dataset.augment(batch, torch.Generator().manual_seed(3))
    again = dataset.augment(batch, torch.Generator().manual_seed(3))
    other = dataset.augment(batch, torch.Generator().manual_seed(4))
    assert augmented.shape == batch.shape and torch.equal(augmented, again)
    assert not torch.equal(augmented, other)
    assert not torch.equal(augmented, batch)
    for image, result in zip(batch, augmented, strict=True):
        candidates = all_crops_and_flips(image, dataset.augment.pad_value, data.CIFAR10_PADDING)
        assert any(torch.equal(result, candidate) for candidate in candidates)


def test_augmentation_pads_with_black_pixels(tmp_path):
    written = write_cifar10(tmp_path)
    dataset = load_dataset(
        {"name": "cifar10", "validation": 5, "augment": True}, tmp_path, CPU, seed=0
    )
    for channel in range(3):
        # Normalisation is affine per channel: fit it on the test images, read off raw 0 (black).
        raw = torch.as_tensor(written["test_x"][:, channel], dtype=torch.float64).flatten()
        normalised = dataset.test.x[:, channel].double().flatten()
        slope, intercept = torch.linalg.lstsq(
            torch.stack([raw, torch.ones_like(raw)], 1), normalised[:, None]
        ).solution.flatten()
        assert abs(dataset.augment.pad_value[channel].item() - intercept.item()) < 1e-4
    black = dataset.augment.pad_value.view(1, 3, 1, 1).expand(4, 3, 32, 32)
    assert torch.equal(dataset.augment(black, torch.Generator().manual_seed(0)), black)


# ------------------------------------------------------------------------------------- batching


def test_iterate_batches_covers_every_example_once_in_seeded_order():
    split = Split(x=torch.arange(10.0).view(10, 1), y=torch.arange(10))
    batches = list(iterate_batches(split, 3, torch.Generator().manual_seed(0)))
    assert [len(y) for _, y in batches] == [3, 3, 3, 1]
    order = torch.cat([y for _, y in batches])
    assert sorted(order.tolist()) == list(range(10)) and order.tolist() != list(range(10))
    assert all(torch.equal(x.view(-1).long(), y) for x, y in batches)  # rows stay paired
    repeat = torch.cat([y for _, y in iterate_batches(split, 3, torch.Generator().manual_seed(0))])
    assert torch.equal(order, repeat)


def test_iterate_batches_rejects_bad_batch_size():
    split = Split(x=torch.zeros(4, 1), y=torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="batch_size"):
        next(iterate_batches(split, 0, torch.Generator()))
