"""Time our trainer against a plain per-model training loop, on the same work and machine.

    python benchmarks/training.py [--workload mnist1d_mlp|lenet|all] [--models N]
                                  [--iterations N] [--device auto|cpu|cuda] [--threads N]

Workloads (masked networks at 20% density, Adam, every network its own seed and data order):
  mnist1d_mlp  one round of the MNIST-1D lottery-ticket sweep (lth_mnist1d): 15 networks
               (5 methods x 3 seeds) of the 40-100-100-10 MLP on MNIST-1D (generated locally
               under --data-root), batches of 100, evaluation every 100 steps
  lenet        LeNet-300-100 on synthetic MNIST-shaped data (55,000 / 5,000 / 10,000 random
               28x28 images: the timing does not depend on the pixels), batches of 60

Variants, each in a fresh process so that its peak memory is its own:
  reference  one network at a time, the way the published tools do it: a torch DataLoader over
             the training set (shuffled, examples gathered and collated one by one), an
             nn.Module, torch.optim.Adam, the mask applied to gradients and weights, and a pass
             over the validation set after every epoch
  alone      our trainer, one network at a time (experiments.training.train)
  stacked    our trainer, all networks as one stacked network (experiments.batched_training)

For each it prints networks x iterations per second, wall time and peak memory (CUDA: the
allocator's peak; CPU: the process's peak resident set and how much training added to it), then
the ratio of stacked to reference.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

WORKLOADS = {
    "mnist1d_mlp": {"hidden": (100, 100), "batch_size": 100, "lr": 0.001, "iterations": 600},
    "lenet": {"hidden": (300, 100), "batch_size": 60, "lr": 0.0012, "iterations": 300},
}
VARIANTS = ("reference", "alone", "stacked")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", choices=[*WORKLOADS, "all"], default="all")
    parser.add_argument("--models", type=int, default=15)
    parser.add_argument("--iterations", type=int, default=None,
                        help="steps per network (default: 600 mnist1d_mlp, 300 lenet)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--data-root", default=str(REPO / "data"))
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)  # child process
    args = parser.parse_args(argv)
    if args.variant:
        print(json.dumps(measure(args)))
        return 0
    workloads = list(WORKLOADS) if args.workload == "all" else [args.workload]
    for workload in workloads:
        report(workload, [run_child(args, workload, variant) for variant in VARIANTS])
    return 0


def run_child(args: argparse.Namespace, workload: str, variant: str) -> dict:
    command = [sys.executable, __file__, "--variant", variant, "--workload", workload,
               "--models", str(args.models), "--device", args.device,
               "--data-root", args.data_root]
    for option in ("iterations", "threads"):
        if getattr(args, option) is not None:
            command += [f"--{option}", str(getattr(args, option))]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"benchmark {workload}/{variant} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(workload: str, runs: list[dict]) -> None:
    first = runs[0]
    print(f"{workload}: {first['models']} networks x {first['iterations']} iterations on "
          f"{first['device']} ({first['threads']} threads)")
    for run in runs:
        print(f"  {run['variant']:<9} {run['rate']:9.0f} networks x iterations/s  "
              f"{run['seconds']:7.1f} s  {memory_text(run)}")
    rate = {run["variant"]: run["rate"] for run in runs}
    print(f"  ratio stacked / reference: {rate['stacked'] / rate['reference']:.1f}x   "
          f"stacked / alone: {rate['stacked'] / rate['alone']:.1f}x")


def memory_text(run: dict) -> str:
    extra = ""
    if run.get("stack_size"):
        extra = f"; {run['stack_size']} per stack, estimated {run['estimate_mb']:.0f} MB"
    if run["device"].startswith("cuda"):
        return f"peak GPU memory {run['peak_mb']:.0f} MB{extra}"
    return f"peak RSS {run['peak_mb']:.0f} MB (training added {run['added_mb']:.0f} MB){extra}"


def measure(args: argparse.Namespace) -> dict:
    import torch

    from experiments.seeding import configure_torch, resolve_device

    device = resolve_device(args.device)
    configure_torch(device, args.threads)
    spec = WORKLOADS[args.workload]
    iterations = args.iterations or spec["iterations"]
    dataset = load_data(args.workload, args.data_root, device)
    cfg = {"optimizer": "adam", "lr": spec["lr"], "batch_size": spec["batch_size"],
           "iterations": iterations, "eval_every": 100}
    jobs = make_jobs(args.models, spec["hidden"], dataset)
    before = resident_mb()
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    stack = VARIANT_RUNNERS[args.variant](jobs, dataset, cfg, spec["hidden"], device) or {}
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    peak = (torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda"
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return {"variant": args.variant, "models": len(jobs), "iterations": iterations,
            "seconds": seconds, "rate": len(jobs) * iterations / seconds, "peak_mb": peak,
            "added_mb": peak - before, "device": str(device), "threads": torch.get_num_threads(),
            **stack}


def resident_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_data(workload: str, data_root: str, device):
    import torch

    from experiments.data import Dataset, Split, load_dataset

    if workload == "mnist1d_mlp":
        return load_dataset({"name": "mnist1d", "validation": 500}, data_root, device, 0)
    draw = torch.Generator().manual_seed(0)

    def split(count: int) -> Split:
        x = torch.randn(count, 1, 28, 28, generator=draw)
        return Split(x.to(device), torch.randint(0, 10, (count,), generator=draw).to(device))

    return Dataset(name="synthetic_mnist", train=split(55_000), val=split(5_000),
                   test=split(10_000), num_classes=10, input_shape=(1, 28, 28), augment=None)


def make_jobs(count: int, hidden: tuple[int, ...], dataset) -> list:
    import torch

    from experiments.batched_training import TrainJob
    from experiments.masks import dense_mask, layer_kinds, magnitude_prune
    from experiments.models.mlp import MLP
    from experiments.training import state_snapshot

    jobs = []
    for index in range(count):
        torch.manual_seed(index)
        model = MLP(dataset.input_shape, dataset.num_classes, hidden)
        weights = state_snapshot(model)
        mask = magnitude_prune(weights, dense_mask(model), {"linear": 0.8, "output": 0.5},
                               "layerwise", layer_kinds(model))
        jobs.append(TrainJob(weights, mask, data_seed=index))
    return jobs


def run_reference(jobs, dataset, cfg, hidden, device) -> None:
    import torch
    import torch.nn.functional as F
    from torch.utils.data import DataLoader, TensorDataset

    from experiments.models.mlp import MLP

    train_set = TensorDataset(dataset.train.x.cpu(), dataset.train.y.cpu())
    val_set = TensorDataset(dataset.val.x.cpu(), dataset.val.y.cpu())
    for job in jobs:
        model = MLP(dataset.input_shape, dataset.num_classes, hidden).to(device)
        model.load_state_dict(job.start_weights)
        masked = [(dict(model.named_parameters())[name], keep.to(device, torch.float32))
                  for name, keep in job.mask.items()]
        optimizer = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
        order = torch.Generator().manual_seed(job.data_seed)
        loader = DataLoader(train_set, batch_size=cfg["batch_size"], shuffle=True,
                            generator=order)
        step = 0
        while step < cfg["iterations"]:
            for x, y in loader:
                loss = F.cross_entropy(model(x.to(device)), y.to(device))
                optimizer.zero_grad()
                loss.backward()
                for weight, keep in masked:
                    weight.grad.mul_(keep)
                optimizer.step()
                with torch.no_grad():
                    for weight, keep in masked:
                        weight.mul_(keep)
                step += 1
                if step == cfg["iterations"]:
                    break
            else:
                reference_evaluate(model, val_set, device)


def reference_evaluate(model, val_set, device) -> tuple[float, float]:
    import torch
    import torch.nn.functional as F
    from torch.utils.data import DataLoader

    loss, correct = 0.0, 0
    with torch.no_grad():
        for x, y in DataLoader(val_set, batch_size=1000):
            logits = model(x.to(device))
            loss += F.cross_entropy(logits, y.to(device), reduction="sum").item()
            correct += int((logits.argmax(1) == y.to(device)).sum())
    return loss / len(val_set), correct / len(val_set)


def run_alone(jobs, dataset, cfg, hidden, device) -> None:
    from experiments.batched_training import train_jobs

    train_jobs(jobs, lambda: build(dataset, hidden, device), dataset, cfg, stack=False)


def run_stacked(jobs, dataset, cfg, hidden, device) -> dict:
    from experiments.batched_training import bytes_per_model, models_per_stack, train_jobs

    train_jobs(jobs, lambda: build(dataset, hidden, device), dataset, cfg)
    model = build(dataset, hidden, device)
    size = min(len(jobs), models_per_stack(model, dataset, cfg, device))
    return {"stack_size": size,
            "estimate_mb": size * bytes_per_model(model, dataset, cfg) / 2**20}


def build(dataset, hidden, device):
    from experiments.models.mlp import MLP

    return MLP(dataset.input_shape, dataset.num_classes, hidden).to(device)


VARIANT_RUNNERS = {"reference": run_reference, "alone": run_alone, "stacked": run_stacked}

if __name__ == "__main__":
    sys.exit(main())
