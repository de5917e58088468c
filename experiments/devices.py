"""Device facts decided without importing torch.

How many GPU slots a trial job takes: Snakemake evaluates this every time it starts, including
for a text-only rebuild of the thesis, and importing torch alone costs seconds. The trial itself
resolves ``auto`` with torch; here a visible NVIDIA driver is enough to make trials queue for the
GPU one at a time.

How much host memory a CPU trial may still use (``host_free_memory``): the machine's available
memory, or less where the job runs in a control group with a memory limit, as Slurm puts every
job on a cluster node (``--mem``); sizing stacks from the node's memory there would get the job
killed by the limit.
"""
from __future__ import annotations

import os
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


def host_free_memory(proc: Path = Path("/proc"), cgroup_root: Path = Path("/sys/fs/cgroup")) -> int:
    """Bytes this process may still take: MemAvailable, capped by its control group's limit
    minus the group's usage (cgroup v2 or v1), where a limit is set."""
    available = _meminfo_available(proc / "meminfo")
    headroom = _cgroup_headroom(proc / "self" / "cgroup", cgroup_root)
    return available if headroom is None else min(available, headroom)


def _meminfo_available(meminfo: Path) -> int:
    if meminfo.exists():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


# (limit file, usage file) of cgroup v2 and v1; v1 reports "no limit" as a huge number.
_CGROUP_FILES = {"v2": ("memory.max", "memory.current"),
                 "v1": ("memory.limit_in_bytes", "memory.usage_in_bytes")}


def _cgroup_headroom(self_cgroup: Path, root: Path) -> int | None:
    """Limit minus usage of the process's memory control group; None without a limit."""
    if not self_cgroup.exists():
        return None
    for line in self_cgroup.read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controllers == "":  # "0::/path": the unified (v2) hierarchy
            folder, (limit_name, usage_name) = root / path.lstrip("/"), _CGROUP_FILES["v2"]
        elif "memory" in controllers.split(","):
            folder, (limit_name, usage_name) = root / "memory" / path.lstrip("/"), _CGROUP_FILES["v1"]
        else:
            continue
        headroom = _limit_minus_usage(folder / limit_name, folder / usage_name)
        if headroom is not None:
            return headroom
    return None


def _limit_minus_usage(limit_file: Path, usage_file: Path) -> int | None:
    try:
        limit, usage = limit_file.read_text().strip(), int(usage_file.read_text())
    except (OSError, ValueError):
        return None  # no such controller here, or a file we may not read
    if limit == "max" or int(limit) >= 1 << 60:
        return None
    return max(0, int(limit) - usage)
