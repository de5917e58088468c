"""Measured inference: how fast dense, structured-pruned and unstructured-masked networks run.

    python -m experiments.inference --experiments-file F --experiment E
                                    --out results/E/inference.csv [--device auto|cpu|cuda]
                                    [--threads N] [--repeats N] [--log FILE]

For the experiment's model and each of its ``pruning.channel_ratios`` it times

- ``dense``: the unpruned network (once, ratio 0);
- ``structured``: the physically narrower network left by L1 filter pruning at that ratio;
- ``masked``: the dense network with an unstructured magnitude mask keeping as many weights as
  the structured one (the same density), run with dense kernels that multiply the zeros;
- ``masked_csr``: the masked network with its Linear layers' weights stored as sparse CSR
  matrices (convolutions stay dense: torch offers no sparse convolution).

Each runs at batch size 1 (latency) and at ``training.eval_batch_size`` (throughput) on the same
random input. After a warm-up, each of ``--repeats`` timings runs the forward pass enough times
to last about 20 ms (fewer calls are too short for the clock) and records the time per call;
the CSV reports their median and interquartile range, with ``torch.cuda.synchronize`` around
each timing on a GPU. Columns: FIELDS.

Weight values do not change how long dense or sparse kernels take; only the architecture and the
number of stored non-zeros do. So this needs no trial state: the networks are freshly
initialised. The structured network's shape depends on the ratio alone (L1 pruning removes the
same fraction of every layer), and the masked network keeps the same number of weights, placed
by initial rather than trained magnitudes. Exit status: 0 done, 2 bad input (one line on
stderr: what and where, no traceback; also for a file that cannot be written), 130
interrupted. The CSV is written atomically; ``--log FILE`` takes the detail (library warnings).
"""

from __future__ import annotations

import argparse
import copy
import math
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from experiments import atomic, flops
from experiments.config import ConfigError, experiment_config
from experiments.console import Console, guarded
from experiments.data import NUM_CLASSES
from experiments.masks import (Mask, apply_mask, dense_mask, density, prunable_weights,
                               prune_smallest_global)
from experiments.models import ModelSpecError, build_model
from experiments.seeding import configure_torch, resolve_device
from experiments.structured import (StructureError, channel_mask, channel_scores, narrow,
                                    select_channels)

FIELDS = ("model_kind", "ratio", "density", "params", "flops", "batch", "latency_ms_median",
          "latency_ms_iqr", "throughput_per_s", "device", "threads", "repeats")
WARMUP_CALLS = 3
TARGET_SECONDS = 0.02  # length of one timing
MAX_CALLS = 1000  # per timing
# Input shape of each dataset as the loaders give it (experiments/data); MNIST-1D's generator
# always makes 40-sample signals (mnist1d's final_seq_length).
INPUT_SHAPES = {"mnist1d": (40,), "mnist": (1, 28, 28), "fashion_mnist": (1, 28, 28),
                "cifar10": (3, 32, 32)}


class InferenceError(ValueError):
    """The experiment cannot be measured as asked."""


@dataclass
class Network:
    """One network to time, with its size as rounds.csv would report it."""

    kind: str
    ratio: float
    model: nn.Module
    density: float
    size: flops.Size


def networks(cfg: dict, device: torch.device) -> list[Network]:
    """Every network to time, in eval mode on ``device``: dense, then per channel ratio the
    structured, masked and masked_csr ones."""
    shape = input_shape(cfg)
    ratios = cfg["pruning"].get("channel_ratios")
    if not ratios:
        raise InferenceError("the experiment has no pruning.channel_ratios to measure")
    torch.manual_seed(0)
    dense = build_model(cfg["model"], shape, NUM_CLASSES).to(device).eval()
    found = [Network("dense", 0.0, dense, 1.0, flops.count(dense, shape))]
    for ratio in ratios:
        keep = select_channels(channel_scores(dense, "l1"), ratio, "layerwise")
        small, cut = narrow(dense, keep), channel_mask(dense, keep)
        mask = magnitude_mask_like(dense, cut)
        masked = copy.deepcopy(dense)
        apply_mask(masked, mask)
        masked_size = flops.count(dense, shape, mask)
        found += [Network("structured", ratio, small, density(cut), flops.count(small, shape)),
                  Network("masked", ratio, masked, density(mask), masked_size),
                  Network("masked_csr", ratio, with_csr_linears(masked), density(mask),
                          masked_size)]
    return found


def input_shape(cfg: dict) -> tuple[int, ...]:
    return INPUT_SHAPES[cfg["dataset"]["name"]]


def magnitude_mask_like(model: nn.Module, like: Mask) -> Mask:
    """An unstructured mask keeping as many weights as ``like``: the largest over all layers."""
    weights = {name: w.detach() for name, w in prunable_weights(model).items()}
    start = dense_mask(model)
    remove = sum(m.numel() - int(m.sum()) for m in like.values())
    return prune_smallest_global(weights, start, list(start), remove)


class CsrLinear(nn.Module):
    """A Linear layer whose weight is a sparse CSR matrix: y = W x + b over the stored entries."""

    def __init__(self, linear: nn.Linear):
        super().__init__()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "sparse CSR support is in beta"
            self.weight = linear.weight.detach().to_sparse_csr()
        self.bias = None if linear.bias is None else linear.bias.detach().clone()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = (self.weight @ x.T).T  # (out, N) -> (N, out)
        return out if self.bias is None else out + self.bias


def with_csr_linears(model: nn.Module) -> nn.Module:
    """A copy of ``model`` with every Linear replaced by its CSR form."""
    converted = copy.deepcopy(model)
    for name, module in list(converted.named_modules()):
        if isinstance(module, nn.Linear):
            parent, _, child = name.rpartition(".")
            setattr(converted.get_submodule(parent) if parent else converted, child,
                    CsrLinear(module))
    return converted


def time_forward(model: nn.Module, x: torch.Tensor, repeats: int) -> list[float]:
    """Seconds per forward call of ``model`` on ``x``, one value per timing."""
    sync = torch.cuda.synchronize if x.device.type == "cuda" else (lambda: None)
    with torch.inference_mode():
        for _ in range(WARMUP_CALLS):
            model(x)
        sync()
        started = time.perf_counter()
        model(x)
        sync()
        once = max(time.perf_counter() - started, 1e-7)
        calls = max(1, min(MAX_CALLS, math.ceil(TARGET_SECONDS / once)))
        timings = []
        for _ in range(repeats):
            sync()
            started = time.perf_counter()
            for _ in range(calls):
                model(x)
            sync()
            timings.append((time.perf_counter() - started) / calls)
    return timings


def measure(cfg: dict, device: torch.device, repeats: int) -> list[dict]:
    """One row per (network, batch size), batch sizes 1 and ``training.eval_batch_size``."""
    shape = input_shape(cfg)
    batches = (1, cfg["training"].get("eval_batch_size", 1000))
    gen = torch.Generator().manual_seed(0)
    inputs = {batch: torch.randn(batch, *shape, generator=gen).to(device) for batch in batches}
    rows = []
    for net in networks(cfg, device):
        for batch in batches:
            q1, median, q3 = np.percentile(time_forward(net.model, inputs[batch], repeats),
                                           [25, 50, 75])
            rows.append({"model_kind": net.kind, "ratio": net.ratio, "density": net.density,
                         "params": net.size.params, "flops": net.size.flops, "batch": batch,
                         "latency_ms_median": median * 1e3, "latency_ms_iqr": (q3 - q1) * 1e3,
                         "throughput_per_s": batch / median, "device": str(device),
                         "threads": torch.get_num_threads(), "repeats": repeats})
    return rows


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m experiments.inference", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--experiments-file", required=True, type=Path)
    parser.add_argument("--experiment", required=True)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--device", default="auto", help="auto (cuda if available), cpu, cuda")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--repeats", type=int, default=30, help="timings per network and batch")
    parser.add_argument("--log", type=Path, default=None, metavar="FILE",
                        help="detail (and library warnings) goes to FILE; stderr gets errors only")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console("inference")
    return guarded(console, lambda: _run(args, console),
                   (ConfigError, ModelSpecError, InferenceError, StructureError), 2)


def _run(args: argparse.Namespace, console: Console) -> int:
    cfg = experiment_config(args.experiments_file, args.experiment)
    if args.repeats < 2:
        raise InferenceError(f"--repeats must be >= 2, got {args.repeats}")
    if args.threads is not None and args.threads < 1:
        raise InferenceError(f"--threads must be >= 1, got {args.threads}")
    device = _device(args.device)
    console.open_log(args.log)  # only now: a refused command writes nothing
    configure_torch(device, args.threads)
    rows = measure(cfg, device, args.repeats)
    atomic.write_csv(args.out, rows, FIELDS)
    console.log(f"inference: {len(rows)} timings on {device} -> {args.out}")
    return 0


def _device(name: str) -> torch.device:
    try:
        return resolve_device(name)
    except (ValueError, RuntimeError) as err:
        raise InferenceError(f"--device {name}: {err}") from None


if __name__ == "__main__":
    sys.exit(main())
