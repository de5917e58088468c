"""Seeds derived from one trial seed, and the torch settings that make runs repeatable.

Every random choice of a trial gets its own seed, ``derive_seed(trial_seed, purpose, *indices)``:
the first 8 bytes of ``sha256("trial_seed/purpose/i/j")``, cut to 63 bits. Purposes used:

- ``init``          the initial weights theta_0 (global torch RNG while the model is built)
- ``data``          passed to ``load_dataset`` (anything random in loading)
- ``data_order``    batch order (and dropout, via the global RNG) of every training run; the same
                    for every method and round, so runs differ only in mask and starting weights
- ``augment``       augmentation draws, derived from the data-order seed
- ``reinit``        the fresh weights of the reinit control (distinct from ``init``)
- ``random_mask/r`` the random control's mask at round r

Hashing (instead of ``seed + k``) keeps the streams of neighbouring trial seeds unrelated.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

import torch


def derive_seed(seed: int, purpose: str, *indices: int) -> int:
    """A 63-bit seed for ``purpose`` (and optional indices) derived from ``seed``."""
    text = "/".join([str(seed), purpose, *map(str, indices)])
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big") >> 1


@dataclass(frozen=True)
class TrialSeeds:
    """The seeds of one trial, all derived from ``trial``."""

    trial: int

    @property
    def init(self) -> int:
        return derive_seed(self.trial, "init")

    @property
    def data(self) -> int:
        return derive_seed(self.trial, "data")

    @property
    def data_order(self) -> int:
        return derive_seed(self.trial, "data_order")

    @property
    def reinit(self) -> int:
        return derive_seed(self.trial, "reinit")

    def random_mask(self, round_index: int) -> int:
        return derive_seed(self.trial, "random_mask", round_index)


def generator(seed: int) -> torch.Generator:
    """A CPU generator seeded with ``seed``."""
    return torch.Generator(device="cpu").manual_seed(seed)


def resolve_device(name: str) -> torch.device:
    """'auto' -> cuda if available else cpu; 'cpu'/'cuda'/'cuda:N' as given."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} requested but CUDA is not available")
    if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
        raise ValueError(f"device {name!r} requested but there are only "
                         f"{torch.cuda.device_count()} CUDA device(s)")
    if device.type not in ("cpu", "cuda"):
        raise ValueError(f"device {name!r}: use auto, cpu, cuda or cuda:N")
    return device


def configure_torch(device: torch.device, threads: int | None) -> None:
    """Thread count and deterministic kernels.

    On CPU results are bit-identical for the same thread count. On CUDA, cuBLAS needs a fixed
    workspace to be deterministic; kernels without a deterministic version only warn.
    """
    if threads is not None:
        torch.set_num_threads(threads)
    if device.type == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.backends.cudnn.benchmark = False
    torch.use_deterministic_algorithms(True, warn_only=True)
