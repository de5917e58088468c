"""How many GPU slots a trial job takes, decided without importing torch.

Snakemake evaluates this every time it starts, including for a text-only rebuild of the
thesis, and importing torch alone costs seconds. The trial itself resolves ``auto`` with torch;
here a visible NVIDIA driver is enough to make trials queue for the GPU one at a time.
"""
from __future__ import annotations

import shutil
from pathlib import Path

DEVICES = ("auto", "cpu", "cuda")


def gpu_slots_per_trial(device: str, trial_gpus: int | str = "auto") -> int:
    """GPUs a trial job asks for. A number is taken as it is: on a cluster the submitting host
    (a login node) says nothing about the nodes the trials run on. `auto`: 1 when trials will
    run on a CUDA device of this machine, else 0. An unknown device name is an error."""
    if device.split(":")[0] not in DEVICES:
        raise ValueError(f"device must be one of {', '.join(DEVICES)} (or cuda:N), not '{device}'")
    if trial_gpus != "auto":
        return int(trial_gpus)
    if device == "auto":
        return int(nvidia_driver_present())
    return int(device.startswith("cuda"))


def nvidia_driver_present() -> bool:
    return Path("/dev/nvidiactl").exists() or shutil.which("nvidia-smi") is not None
