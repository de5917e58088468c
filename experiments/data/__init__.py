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

One module per concern: `loading` (the registry and `load_dataset`), `spec` (the config's
``dataset`` mapping), `splits` (validation split, normalisation, batching), `mnist1d`, `idx`
(MNIST, Fashion-MNIST), `cifar10`, `files` (download or explain, label checks), `augment`,
`containers` and `errors`.  This module re-exports what the rest of the project uses.
"""

from experiments.data.augment import CIFAR10_PADDING, RandomCropFlip
from experiments.data.cifar10 import CIFAR10_FILES, CIFAR10_FOLDER, CIFAR10_TRAIN_FILES
from experiments.data.containers import NUM_CLASSES, Dataset, Split
from experiments.data.errors import DatasetFormatError, DatasetSpecError, DatasetUnavailable
from experiments.data.idx import MNIST_FILES
from experiments.data.loading import load_dataset
from experiments.data.splits import iterate_batches

__all__ = [
    "CIFAR10_FILES",
    "CIFAR10_FOLDER",
    "CIFAR10_PADDING",
    "CIFAR10_TRAIN_FILES",
    "MNIST_FILES",
    "NUM_CLASSES",
    "Dataset",
    "DatasetFormatError",
    "DatasetSpecError",
    "DatasetUnavailable",
    "RandomCropFlip",
    "Split",
    "iterate_batches",
    "load_dataset",
]
