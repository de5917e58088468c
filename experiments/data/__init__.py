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

import importlib

# Where each re-exported name lives. The package imports a module only when one of its names is
# used (PEP 562), so that ``experiments.data.classes`` (the figures' chance level) costs no torch.
_HOMES = {
    "CIFAR10_FILES": "cifar10", "CIFAR10_FOLDER": "cifar10", "CIFAR10_TRAIN_FILES": "cifar10",
    "CIFAR10_PADDING": "augment", "RandomCropFlip": "augment", "MNIST_FILES": "idx",
    "NUM_CLASSES": "classes", "Dataset": "containers", "Split": "containers",
    "DatasetFormatError": "errors", "DatasetSpecError": "errors", "DatasetUnavailable": "errors",
    "load_dataset": "loading", "iterate_batches": "splits",
}


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module 'experiments.data' has no attribute {name!r}")
    return getattr(importlib.import_module(f"experiments.data.{_HOMES[name]}"), name)


__all__ = sorted(_HOMES)
