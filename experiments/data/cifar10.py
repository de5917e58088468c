"""CIFAR-10: downloaded by torchvision when asked, read by our own reader of the python pickle
batches in ``data_root/cifar-10-batches-py/``.

torchvision checks the MD5 of every batch before reading, which rejects anything but the exact
official files, so it could not be tested on small files.  This reader checks the structure of
each batch instead, and unpickles only numpy arrays (no arbitrary code from a data file).
"""

from __future__ import annotations

import codecs
import pickle
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from experiments.data.classes import NUM_CLASSES
from experiments.data.containers import RawArrays
from experiments.data.errors import DatasetFormatError
from experiments.data.files import check_labels, ensure_files

CIFAR10_FOLDER = "cifar-10-batches-py"
CIFAR10_TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_FILES = (*CIFAR10_TRAIN_FILES, "test_batch", "batches.meta")


def load_cifar10(spec: dict, data_root: Path) -> RawArrays:
    """The five training batches concatenated, and the test batch."""
    folder = data_root / CIFAR10_FOLDER
    ensure_files(
        folder,
        CIFAR10_FILES,
        spec,
        lambda: _download(data_root),
        hint="the python version of CIFAR-10, extracted",
    )
    read_cifar_meta(folder / "batches.meta")
    train = [read_cifar_batch(folder / name) for name in CIFAR10_TRAIN_FILES]
    test_x, test_y = read_cifar_batch(folder / "test_batch")
    return RawArrays(
        torch.cat([x for x, _ in train]), torch.cat([y for _, y in train]), test_x, test_y
    )


def _download(data_root: Path) -> None:
    import torchvision.datasets  # on use only: importing it costs about a second

    torchvision.datasets.CIFAR10(data_root, train=False, download=True)


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


def read_cifar_batch(path: Path) -> tuple[Tensor, Tensor]:
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
    check_labels(label_tensor, len(data), path)
    # Each row holds the red, green and blue 32x32 planes in turn: already channels-first.
    images = torch.from_numpy(data.copy()).view(-1, 3, 32, 32).float() / 255.0
    return images, label_tensor


def read_cifar_meta(path: Path) -> None:
    """Check that ``batches.meta`` names the ten classes (its content is otherwise unused)."""
    names = _unpickle(path).get("label_names")
    if not isinstance(names, list) or len(names) != NUM_CLASSES:
        raise DatasetFormatError(f"{path}: 'label_names' must list {NUM_CLASSES} class names")
