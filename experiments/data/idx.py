"""MNIST and Fashion-MNIST, read by ``torchvision.datasets`` from the uncompressed IDX files in
``data_root/MNIST/raw/`` and ``data_root/FashionMNIST/raw/``."""

from __future__ import annotations

from pathlib import Path

from experiments.data.containers import RawArrays
from experiments.data.errors import DatasetFormatError
from experiments.data.files import check_labels, ensure_files

MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def load_idx_dataset(dataset_class: type, spec: dict, data_root: Path) -> RawArrays:
    """Train and test arrays of `dataset_class` (torchvision's MNIST or FashionMNIST)."""
    raw_dir = data_root / dataset_class.__name__ / "raw"
    ensure_files(
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
        check_labels(labels, len(images), raw_dir / files[1])
        parts += [images.unsqueeze(1).float() / 255.0, labels.long()]
    return RawArrays(*parts)
