"""Datasets held as whole tensors on the device: MNIST-1D, MNIST, Fashion-MNIST and CIFAR-10.

A loader reads the raw training and test arrays once; `load_dataset` then holds out a validation
split chosen with ``spec["split_seed"]`` (never the trial seed, so every seed of an experiment
trains and early-stops on the same examples), normalises per channel with statistics of the
remaining training examples, and moves everything to the device.  Training then indexes these
tensors directly (`iterate_batches`): there is no per-sample PIL pipeline.

Where the files come from:

* MNIST-1D is generated locally with the ``mnist1d`` package (never its download path) and
  cached under ``data_root/mnist1d/<hash>.npz``.
* MNIST and Fashion-MNIST are read by ``torchvision.datasets`` from the uncompressed IDX files in
  ``data_root/MNIST/raw/`` and ``data_root/FashionMNIST/raw/``.
* CIFAR-10 is downloaded by torchvision when asked, but read by our own reader of the python
  pickle batches in ``data_root/cifar-10-batches-py/``: torchvision checks the MD5 of every batch
  before reading, which rejects anything but the exact official files, so it could not be tested
  on small files.  Our reader checks the structure of each batch instead, and unpickles only
  numpy arrays (no arbitrary code from a data file).
"""

from __future__ import annotations

import codecs
import hashlib
import importlib.metadata
import io
import json
import pickle
import random
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torchvision
from mnist1d.data import get_dataset_args, make_dataset
from mnist1d.utils import ObjectView
from torch import Tensor

from experiments.atomic import write_bytes

MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
CIFAR10_FOLDER = "cifar-10-batches-py"
CIFAR10_TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_FILES = (*CIFAR10_TRAIN_FILES, "test_batch", "batches.meta")
NUM_CLASSES = 10
CIFAR10_PADDING = 4


class DatasetUnavailable(RuntimeError):
    """The dataset's files are missing and could not (or may not) be downloaded."""


class DatasetFormatError(ValueError):
    """A dataset or cache file exists but does not hold what its format promises."""


class DatasetSpecError(ValueError):
    """The experiment config's ``dataset`` mapping asks for something impossible."""


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
class _RawArrays:
    """Unnormalised arrays on the CPU, as read: x float32 (N, *input_shape), y int64 (N,)."""

    train_x: Tensor
    train_y: Tensor
    test_x: Tensor
    test_y: Tensor


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
    name, validation, split_seed, wants_augment = _common_options(spec)
    raw = _LOADERS[name](spec, Path(data_root))
    train, val = _hold_out(raw.train_x, raw.train_y, validation, split_seed, name)
    mean, std = _channel_stats(train.x)
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


def _common_options(spec: dict) -> tuple[str, int, int, bool]:
    """Check the keys every dataset shares: name, validation, split_seed, augment."""
    name = spec.get("name")
    if name not in _LOADERS:
        raise DatasetSpecError(
            f"dataset: unknown name {name!r}; known: {', '.join(sorted(_LOADERS))}"
        )
    validation = _int_option(spec, "validation", None, minimum=1)
    split_seed = _int_option(spec, "split_seed", 0, minimum=0)
    wants_augment = spec.get("augment", False)
    if wants_augment not in (True, False):
        raise DatasetSpecError(f"dataset: 'augment' must be true or false, got {wants_augment!r}")
    if wants_augment and name != "cifar10":
        raise DatasetSpecError(f"dataset: 'augment' is defined only for cifar10, not {name}")
    return name, validation, split_seed, bool(wants_augment)


def _int_option(spec: dict, key: str, default: int | None, minimum: int) -> int:
    value = spec.get(key, default)
    if value is None:
        raise DatasetSpecError(f"dataset: missing required key '{key}'")
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise DatasetSpecError(f"dataset: '{key}' must be an int >= {minimum}, got {value!r}")
    return value


def _hold_out(x: Tensor, y: Tensor, count: int, split_seed: int, name: str) -> tuple[Split, Split]:
    """Split the training arrays into (train, validation) with `count` seeded random examples."""
    if count >= len(y):
        raise DatasetSpecError(
            f"dataset: 'validation' ({count}) must be below the {name} training size ({len(y)})"
        )
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(split_seed))
    # Sorted so both parts keep the file's order, which makes the split easy to inspect.
    val_idx, train_idx = order[:count].sort().values, order[count:].sort().values
    return Split(x[train_idx], y[train_idx]), Split(x[val_idx], y[val_idx])


def _channel_stats(x: Tensor) -> tuple[Tensor, Tensor]:
    """Mean and std per channel (dim 1 of images), or over everything for (N, L) signals;
    shaped to broadcast against a batch: (1, C, 1, 1) or (1, 1)."""
    dims = [0, *range(2, x.dim())] if x.dim() >= 3 else list(range(x.dim()))
    mean = x.mean(dim=dims, keepdim=True)
    std = x.std(dim=dims, keepdim=True).clamp_min(1e-8)  # a constant channel must not divide by 0
    return mean, std


# --------------------------------------------------------------------------------------- MNIST-1D


def _load_mnist1d(spec: dict, data_root: Path) -> _RawArrays:
    args = get_dataset_args(as_dict=True)
    args["num_samples"] = _int_option(spec, "num_samples", args["num_samples"], minimum=NUM_CLASSES)
    args["seed"] = _int_option(spec, "generation_seed", args["seed"], minimum=0)
    train_split = spec.get("train_split", args["train_split"])
    if (
        isinstance(train_split, bool)
        or not isinstance(train_split, (int, float))
        or not 0 < train_split < 1
    ):
        raise DatasetSpecError(
            f"dataset: 'train_split' must be a number in (0, 1), got {train_split!r}"
        )
    args["train_split"] = float(train_split)
    del args["url"]  # only the download path uses it; it must not change the cache key
    cache = data_root / "mnist1d" / f"{_args_hash(args)}.npz"
    arrays = _read_mnist1d_cache(cache) if cache.is_file() else _generate_mnist1d(args, cache)
    return _RawArrays(*(torch.from_numpy(arrays[key]) for key in ("x", "y", "x_test", "y_test")))


def _args_hash(args: dict) -> str:
    payload = {"args": args, "mnist1d": importlib.metadata.version("mnist1d")}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def _generate_mnist1d(args: dict, cache: Path) -> dict[str, np.ndarray]:
    # make_dataset reseeds numpy's and python's global RNGs; restore them so loading data does
    # not change what a trial's later global-RNG draws would be.
    numpy_state, python_state = np.random.get_state(), random.getstate()
    try:
        generated = make_dataset(ObjectView(dict(args)))
    finally:
        np.random.set_state(numpy_state)
        random.setstate(python_state)
    arrays = {
        "x": generated["x"].astype(np.float32),
        "y": generated["y"].astype(np.int64),
        "x_test": generated["x_test"].astype(np.float32),
        "y_test": generated["y_test"].astype(np.int64),
    }
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    write_bytes(cache, buffer.getvalue())
    return arrays


def _read_mnist1d_cache(cache: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(cache, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in ("x", "y", "x_test", "y_test")}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
        raise DatasetFormatError(
            f"{cache}: unreadable MNIST-1D cache ({err}); delete it to regenerate"
        ) from err
    if arrays["x"].ndim != 2 or len(arrays["x"]) != len(arrays["y"]):
        raise DatasetFormatError(
            f"{cache}: MNIST-1D cache has inconsistent shapes; delete it to regenerate"
        )
    return arrays


# --------------------------------------------------------------------------- MNIST, Fashion-MNIST


def _load_idx_dataset(dataset_class: type, spec: dict, data_root: Path) -> _RawArrays:
    raw_dir = data_root / dataset_class.__name__ / "raw"
    _ensure_files(
        raw_dir,
        MNIST_FILES,
        spec,
        lambda: dataset_class(data_root, train=True, download=True),
        hint="uncompressed IDX files, as torchvision names them",
    )
    parts = []
    for train in (True, False):
        files = MNIST_FILES[:2] if train else MNIST_FILES[2:]
        try:
            data = dataset_class(data_root, train=train, download=False)
            images, labels = data.data, data.targets  # (N, H, W) uint8, (N,) int64
        except (AssertionError, RuntimeError, TypeError, ValueError) as err:
            raise DatasetFormatError(
                f"{raw_dir}: malformed IDX file among {', '.join(files)} ({err})"
            ) from err
        _check_labels(labels, len(images), raw_dir / files[1])
        parts += [images.unsqueeze(1).float() / 255.0, labels.long()]
    return _RawArrays(*parts)


def _ensure_files(
    folder: Path, names: tuple[str, ...], spec: dict, download: Callable[[], object], hint: str
) -> None:
    """Download through torchvision when files are missing and the spec allows it; else explain."""
    allow_download = spec.get("download", False)
    if allow_download not in (True, False):
        raise DatasetSpecError(f"dataset: 'download' must be true or false, got {allow_download!r}")
    missing = [name for name in names if not (folder / name).is_file()]
    if missing and allow_download:
        try:
            download()
        except Exception as err:  # torchvision raises RuntimeError, URLError or OSError offline
            reason = " ".join(str(err).split())  # torchvision's messages span several lines
            raise DatasetUnavailable(
                f"{folder}: download failed ({reason}); put the files {', '.join(names)} there"
            ) from err
        missing = [name for name in names if not (folder / name).is_file()]
    if missing:
        raise DatasetUnavailable(
            f"{folder}: missing {', '.join(missing)}; put the files {', '.join(names)} ({hint}) "
            f"in this directory, or set dataset download: true where there is internet"
        )


def _check_labels(labels: Tensor, count: int, path: Path) -> None:
    if len(labels) != count:
        raise DatasetFormatError(f"{path}: {len(labels)} labels for {count} examples")
    if len(labels) and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise DatasetFormatError(f"{path}: labels outside 0..{NUM_CLASSES - 1}")


# -------------------------------------------------------------------------------------- CIFAR-10


def _load_cifar10(spec: dict, data_root: Path) -> _RawArrays:
    folder = data_root / CIFAR10_FOLDER
    _ensure_files(
        folder,
        CIFAR10_FILES,
        spec,
        lambda: torchvision.datasets.CIFAR10(data_root, train=False, download=True),
        hint="the python version of CIFAR-10, extracted",
    )
    _read_cifar_meta(folder / "batches.meta")
    train = [_read_cifar_batch(folder / name) for name in CIFAR10_TRAIN_FILES]
    test_x, test_y = _read_cifar_batch(folder / "test_batch")
    return _RawArrays(
        torch.cat([x for x, _ in train]), torch.cat([y for _, y in train]), test_x, test_y
    )


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickles plain containers and numpy arrays, refusing every other global."""

    _RECONSTRUCT = np.ndarray.__reduce__(np.zeros(1))[0]  # numpy's array rebuild function
    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
        ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("_codecs", "encode"): codecs.encode,
    }

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return self.ALLOWED[(module, name)]


def _unpickle(path: Path) -> dict:
    try:
        with open(path, "rb") as handle:
            # latin1 is how python 3 reads the python 2 byte strings of the official batches.
            entry = _NumpyOnlyUnpickler(handle, encoding="latin1").load()
    except (
        pickle.UnpicklingError,
        EOFError,
        ValueError,
        TypeError,
        AttributeError,
        IndexError,
    ) as err:
        raise DatasetFormatError(f"{path}: not a CIFAR-10 python pickle ({err})") from err
    if not isinstance(entry, dict):
        raise DatasetFormatError(f"{path}: expected a dict, found {type(entry).__name__}")
    return entry


def _read_cifar_batch(path: Path) -> tuple[Tensor, Tensor]:
    """One batch file -> images (N, 3, 32, 32) float32 in [0, 1] and labels (N,) int64."""
    entry = _unpickle(path)
    data, labels = entry.get("data"), entry.get("labels")
    if (
        not isinstance(data, np.ndarray)
        or data.dtype != np.uint8
        or data.ndim != 2
        or data.shape[1] != 3 * 32 * 32
    ):
        raise DatasetFormatError(f"{path}: 'data' must be a uint8 array of shape (N, 3072)")
    try:
        label_tensor = torch.as_tensor(np.asarray(labels, dtype=np.int64)).reshape(-1)
    except (TypeError, ValueError) as err:
        raise DatasetFormatError(f"{path}: 'labels' must be a list of class indices") from err
    _check_labels(label_tensor, len(data), path)
    # Each row holds the red, green and blue 32x32 planes in turn: already channels-first.
    images = torch.from_numpy(data.copy()).view(-1, 3, 32, 32).float() / 255.0
    return images, label_tensor


def _read_cifar_meta(path: Path) -> None:
    names = _unpickle(path).get("label_names")
    if not isinstance(names, list) or len(names) != NUM_CLASSES:
        raise DatasetFormatError(f"{path}: 'label_names' must list {NUM_CLASSES} class names")


_LOADERS: dict[str, Callable[[dict, Path], _RawArrays]] = {
    "mnist1d": _load_mnist1d,
    "mnist": lambda spec, root: _load_idx_dataset(torchvision.datasets.MNIST, spec, root),
    "fashion_mnist": lambda spec, root: _load_idx_dataset(
        torchvision.datasets.FashionMNIST, spec, root
    ),
    "cifar10": _load_cifar10,
}
