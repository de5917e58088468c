"""What a trial job asks a cluster scheduler for: wall time and memory, from the experiment's size.

A batch scheduler kills a job at its time limit and at its memory limit, and queues a job that
asks for more longer; so the request follows the work: networks trained x iterations x the
model's multiply-accumulates. The numbers are deliberately generous upper bounds (every method
trains every round, no stacking speed-up): a job cut at its limit still resumes from its last
finished round when Snakemake retries it, but a request far too small wastes a queue wait.

Snakemake evaluates these for every job it plans, so this module never imports torch; the
multiply-accumulates per example of the fixed-size models are written down here, and
tests/experiments/test_budget.py checks them against experiments/flops.py.
"""
from __future__ import annotations

import math

# A lowest validation loss before this fraction of a run's training budget counts as reached
# inside it; one at or after it may be a network cut by the budget (issue 13).
# TrainResult.late_gains (rows of the structured methods and learned supermasks) and
# benchmarks/convergence.py both judge by it.
INSIDE_BUDGET = 0.9

# Multiply-accumulates per example of the dense network (experiments/flops.py, CIFAR-10 or MNIST
# input). The MNIST-1D models (mlp, convnet) are sized by their config and are all far smaller
# than the smallest value here; they get SMALL_MACS.
MODEL_MACS = {
    "lenet300_100": 266_200,
    "conv2": 43_780_608,
    "conv4": 98_306_560,
    "conv6": 153_881_088,
    "vgg16": 313_201_664,
    "vgg19": 398_136_320,
    "resnet20": 40_813_184,
}
SMALL_MACS = 100_000
# Bytes of one example as float32, per dataset (the whole dataset is held in memory).
EXAMPLE_BYTES = {"mnist": 4 * 784, "fashion_mnist": 4 * 784, "cifar10": 4 * 3072, "mnist1d": 4 * 40}
DATASET_EXAMPLES = {"mnist": 70_000, "fashion_mnist": 70_000, "cifar10": 60_000}

# Sustained multiply-accumulates per second (forward and backward count three times the forward)
# and a fixed cost per iteration (kernel launches, Python): conservative for a current GPU and
# for one CPU thread.
MACS_PER_SECOND = {"gpu": 2e12, "cpu": 1e10}
SECONDS_PER_ITERATION = {"gpu": 0.004, "cpu": 0.002}
SAFETY = 2.0
START_MINUTES = 10  # interpreter, torch import, dataset load, queue-side overheads
# Longer than many partitions allow: past it a job is cut and resumed on a retry.
MAX_MINUTES = 2 * 24 * 60


def trial_minutes(cfg: dict, seeds: int, gpus: int) -> int:
    """Minutes a trial job of `seeds` seeds of experiment `cfg` asks for."""
    kind = "gpu" if gpus > 0 else "cpu"
    iterations = cfg["training"]["iterations"] + _extra_iterations(cfg)
    networks = seeds * len(cfg["methods"]) * (cfg["pruning"]["rounds"] + 1)
    batch = cfg["training"]["batch_size"]
    per_iteration = SECONDS_PER_ITERATION[kind] + 3 * _macs(cfg) * batch / MACS_PER_SECOND[kind]
    seconds = SAFETY * networks * iterations * per_iteration
    return min(MAX_MINUTES, START_MINUTES + math.ceil(seconds / 60))


def trial_mem_mb(cfg: dict) -> int:
    """Megabytes of host memory a trial job asks for: the dataset several times over (the raw
    arrays, the normalised copy, the split) plus the interpreter and torch."""
    name = cfg["dataset"]["name"]
    examples = cfg["dataset"].get("num_samples") or DATASET_EXAMPLES.get(name, 10_000)
    dataset_mb = examples * EXAMPLE_BYTES.get(name, 4 * 3072) / 2**20
    return max(4000, 2000 + 100 * math.ceil(4 * dataset_mb / 100))


def _macs(cfg: dict) -> int:
    return MODEL_MACS.get(cfg["model"]["name"], SMALL_MACS)


def _extra_iterations(cfg: dict) -> int:
    """Training that methods add after the main run: supermask search, structured fine-tuning."""
    supermask = (cfg.get("supermask") or {}).get("iterations", 0)
    finetune = (cfg.get("structured") or {}).get("finetune_iterations", 0)
    return supermask + finetune
