"""Write tiny dataset files in the real on-disk formats, for tests of experiments.data.

* MNIST / Fashion-MNIST: the four uncompressed IDX files in ``root/<Folder>/raw/``, exactly the
  names and layout torchvision reads (big-endian header: magic 0x0803 or 0x0801, then sizes).
* CIFAR-10: ``root/cifar-10-batches-py/`` with ``data_batch_1..5``, ``test_batch`` and
  ``batches.meta`` as pickled dicts ('data' uint8 (N, 3072) with the R, G, B planes of each image
  in turn, 'labels' list of ints, 'batch_label', 'filenames'; meta 'label_names').
"""

from __future__ import annotations

import pickle
import struct
from pathlib import Path

import numpy as np

CIFAR10_LABEL_NAMES = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
]


def write_idx(path: Path, array: np.ndarray) -> None:
    """An IDX file of unsigned bytes: magic (0, 0, 0x08, ndim), big-endian int32 sizes, data."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(
        f">{array.ndim}I", *array.shape
    )
    path.write_bytes(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())


def write_mnist(
    root: Path, folder: str = "MNIST", n_train: int = 60, n_test: int = 20, seed: int = 0
) -> dict[str, np.ndarray]:
    """Random 28x28 digits and labels; returns the arrays written (uint8 images, int64 labels)."""
    rng = np.random.default_rng(seed)
    raw = root / folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train_x": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train_y": rng.integers(0, 10, n_train),
        "test_x": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "test_y": rng.integers(0, 10, n_test),
    }
    write_idx(raw / "train-images-idx3-ubyte", arrays["train_x"])
    write_idx(raw / "train-labels-idx1-ubyte", arrays["train_y"])
    write_idx(raw / "t10k-images-idx3-ubyte", arrays["test_x"])
    write_idx(raw / "t10k-labels-idx1-ubyte", arrays["test_y"])
    return arrays


def write_cifar_batch(path: Path, images: np.ndarray, labels: np.ndarray, batch_label: str) -> None:
    """`images` (N, 3, 32, 32) uint8 -> one pickled batch, one flattened image per row."""
    entry = {
        "batch_label": batch_label,
        "labels": [int(label) for label in labels],
        "data": images.reshape(len(images), -1),  # (N, C*H*W): 3072 bytes for real images
        "filenames": [f"image_{index}.png" for index in range(len(images))],
    }
    with open(path, "wb") as handle:
        pickle.dump(entry, handle, protocol=2)


def write_cifar10(
    root: Path, per_batch: int = 8, n_test: int = 10, seed: int = 0
) -> dict[str, np.ndarray]:
    """Random images whose red plane is brighter than blue, so a channel mix-up shows in tests;
    returns the arrays written (uint8 images (N, 3, 32, 32), int64 labels)."""
    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    n_train = 5 * per_batch
    channel_ceiling = np.array([256, 160, 64]).reshape(1, 3, 1, 1)
    images = (rng.random((n_train + n_test, 3, 32, 32)) * channel_ceiling).astype(np.uint8)
    labels = rng.integers(0, 10, n_train + n_test)
    for batch in range(5):
        rows = slice(batch * per_batch, (batch + 1) * per_batch)
        write_cifar_batch(
            folder / f"data_batch_{batch + 1}",
            images[rows],
            labels[rows],
            f"training batch {batch + 1} of 5",
        )
    write_cifar_batch(
        folder / "test_batch", images[n_train:], labels[n_train:], "testing batch 1 of 1"
    )
    with open(folder / "batches.meta", "wb") as handle:
        pickle.dump(
            {"label_names": CIFAR10_LABEL_NAMES, "num_cases_per_batch": per_batch, "num_vis": 3072},
            handle,
            protocol=2,
        )
    return {
        "train_x": images[:n_train],
        "train_y": labels[:n_train],
        "test_x": images[n_train:],
        "test_y": labels[n_train:],
    }
