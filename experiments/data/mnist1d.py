"""MNIST-1D: generated locally with the ``mnist1d`` package (never its download path) and cached
under ``data_root/mnist1d/<hash>.npz``, the hash covering the generation arguments and the
package version."""

from __future__ import annotations

import hashlib
import importlib.metadata
import io
import json
import random
import zipfile
from pathlib import Path

import numpy as np
import torch
from mnist1d.data import get_dataset_args, make_dataset
from mnist1d.utils import ObjectView

from experiments.atomic import write_bytes
from experiments.data.classes import NUM_CLASSES
from experiments.data.containers import RawArrays
from experiments.data.errors import DatasetFormatError, DatasetSpecError
from experiments.data.spec import int_option

ARRAY_KEYS = ("x", "y", "x_test", "y_test")


def load_mnist1d(spec: dict, data_root: Path) -> RawArrays:
    """The cached arrays for the spec's generation arguments, generated on first use."""
    args = _generation_args(spec)
    cache = data_root / "mnist1d" / f"{_args_hash(args)}.npz"
    arrays = _read_cache(cache) if cache.is_file() else _generate(args, cache)
    return RawArrays(*(torch.from_numpy(arrays[key]) for key in ARRAY_KEYS))


def _generation_args(spec: dict) -> dict:
    """The package's default generation arguments with the spec's overrides, checked."""
    args = get_dataset_args(as_dict=True)
    args["num_samples"] = int_option(spec, "num_samples", args["num_samples"], minimum=NUM_CLASSES)
    args["seed"] = int_option(spec, "generation_seed", args["seed"], minimum=0)
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
    return args


def _args_hash(args: dict) -> str:
    payload = {"args": args, "mnist1d": importlib.metadata.version("mnist1d")}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def _generate(args: dict, cache: Path) -> dict[str, np.ndarray]:
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


def _read_cache(cache: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(cache, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in ARRAY_KEYS}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
        raise DatasetFormatError(
            f"{cache}: unreadable MNIST-1D cache ({err}); delete it to regenerate"
        ) from err
    if arrays["x"].ndim != 2 or len(arrays["x"]) != len(arrays["y"]):
        raise DatasetFormatError(
            f"{cache}: MNIST-1D cache has inconsistent shapes; delete it to regenerate"
        )
    return arrays
