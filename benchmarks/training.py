"""Time our trainer against a plain per-model training loop, on the same work and machine.

    python benchmarks/training.py [--workload mnist1d_mlp|lenet|mnist1d_conv|conv2|all]
                                  [--models N] [--iterations N] [--device auto|cpu|cuda]
                                  [--threads N]

Workloads (every network its own seed and data order):
  mnist1d_mlp  one round of the MNIST-1D lottery-ticket sweep (lth_mnist1d): 15 networks
               (5 methods x 3 seeds) of the 40-100-100-10 MLP on MNIST-1D (generated locally
               under --data-root) at 20% density, Adam, batches of 100
  lenet        LeNet-300-100 at 20% density on synthetic MNIST-shaped data (55,000 / 5,000 /
               10,000 random 28x28 images: the timing does not depend on the pixels), batches of 60
  mnist1d_conv the structured experiments' 1-D conv net with batch norm (16 and 32 channels,
               hidden 64), dense, SGD with momentum, batches of 100 on MNIST-1D: 6 networks
               (two variants x 3 seeds of one round)
  conv2        Conv-2 (64 channels, 256-256 hidden) on synthetic CIFAR-shaped data (3x32x32),
               dense, SGD with momentum, batches of 60: 2 networks x 4 iterations, validation
               and test sets of 200 images (a CPU takes seconds per step of this net)
All evaluate every 100 steps.

Variants, each in a fresh process so that its peak memory is its own:
  reference  one network at a time, the way the published tools do it: a torch DataLoader over
             the training set (shuffled, examples gathered and collated one by one), an
             nn.Module, torch.optim.Adam, the mask applied to gradients and weights, and a pass
             over the validation set after every epoch
  alone      our trainer, one network at a time (experiments.training.train)
  stacked    our trainer, all networks as one stacked network (experiments.batched_training;
             conv nets on the CPU: one convolution per copy, bit for bit; the trainer itself
             trains conv nets one at a time on the CPU, as this measurement shows faster)
  grouped    conv workloads only: stacked with one grouped convolution per layer (what a GPU
             runs; on the CPU not bit for bit, experiments/stacked_conv.py)

For each it prints networks x iterations per second, wall time, the achieved GFLOP/s of the
training steps (6 x multiply-accumulates x batch per network-iteration: forward and two backward
products of the dense layers; evaluation not counted) and peak memory (CUDA: the allocator's
peak; CPU: the process's peak resident set and how much training added to it), then the ratios.
First it measures the machine's peak: the best of a few 2048x2048 float32 matrix products.
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

ADAM = {"optimizer": "adam"}
SGD = {"optimizer": "sgd", "momentum": 0.9, "weight_decay": 0.0001}
WORKLOADS = {
    "mnist1d_mlp": {"model": {"name": "mlp", "hidden": [100, 100]}, "density": 0.2,
                    "batch_size": 100, "lr": 0.001, "iterations": 600, "models": 15, **ADAM},
    "lenet": {"model": {"name": "mlp", "hidden": [300, 100]}, "density": 0.2, "batch_size": 60,
              "lr": 0.0012, "iterations": 300, "models": 15, **ADAM},
    "mnist1d_conv": {"model": {"name": "convnet", "stage_widths": [16, 32], "fc_hidden": [64],
                               "batch_norm": True}, "density": 1.0, "batch_size": 100,
                     "lr": 0.01, "iterations": 300, "models": 6, **SGD},
    "conv2": {"model": {"name": "conv2"}, "density": 1.0, "batch_size": 60, "lr": 0.01,
              "iterations": 4, "models": 2, **SGD},
}
CONV_WORKLOADS = ("mnist1d_conv", "conv2")
VARIANTS = ("reference", "alone", "stacked", "grouped")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", choices=[*WORKLOADS, "all"], default="all")
    parser.add_argument("--models", type=int, default=None,
                        help="networks (default: the workload's, above)")
    parser.add_argument("--iterations", type=int, default=None,
                        help="steps per network (default: the workload's, above)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--data-root", default=str(REPO / "data"))
    parser.add_argument("--variant", choices=[*VARIANTS, "peak"], help=argparse.SUPPRESS)  # child process
    args = parser.parse_args(argv)
    if args.variant:
        print(json.dumps(measure(args) if args.variant != "peak" else measure_peak(args)))
        return 0
    workloads = list(WORKLOADS) if args.workload == "all" else [args.workload]
    peak = run_child(args, workloads[0], "peak")
    print(f"peak: {peak['gflops']:.0f} GFLOP/s (float32 {PEAK_SIZE}x{PEAK_SIZE} matrix product, "
          f"{peak['threads']} threads, {peak['device']})")
    for workload in workloads:
        variants = [v for v in VARIANTS if v != "grouped" or workload in CONV_WORKLOADS]
        report(workload, [run_child(args, workload, variant) for variant in variants],
               peak["gflops"])
    return 0


PEAK_SIZE = 2048


def measure_peak(args: argparse.Namespace) -> dict:
    """The best rate of a few large float32 matrix products: the machine's practical peak."""
    import torch

    from experiments.seeding import configure_torch, resolve_device

    device = resolve_device(args.device)
    configure_torch(device, args.threads)
    a = torch.randn(PEAK_SIZE, PEAK_SIZE, device=device)
    b = torch.randn(PEAK_SIZE, PEAK_SIZE, device=device)
    best = float("inf")
    for _ in range(5):
        sync(device)
        started = time.perf_counter()
        torch.mm(a, b)
        sync(device)
        best = min(best, time.perf_counter() - started)
    return {"gflops": 2 * PEAK_SIZE ** 3 / best / 1e9, "device": str(device),
            "threads": torch.get_num_threads()}


def sync(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize()


def run_child(args: argparse.Namespace, workload: str, variant: str) -> dict:
    command = [sys.executable, __file__, "--variant", variant, "--workload", workload,
               "--device", args.device, "--data-root", args.data_root]
    for option in ("models", "iterations", "threads"):
        if getattr(args, option) is not None:
            command += [f"--{option}", str(getattr(args, option))]
    done = subprocess.run(command, capture_output=True, text=True, check=False,
                          stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        sys.exit(f"benchmark {workload}/{variant} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(workload: str, runs: list[dict], peak: float) -> None:
    first = runs[0]
    print(f"{workload}: {first['models']} networks x {first['iterations']} iterations on "
          f"{first['device']} ({first['threads']} threads)")
    for run in runs:
        gflops = run["rate"] * run["flops_per_iteration"] / 1e9
        rate = f"{run['rate']:9.0f}" if run["rate"] >= 100 else f"{run['rate']:9.2f}"
        print(f"  {run['variant']:<9} {rate} networks x iterations/s  "
              f"{run['seconds']:7.1f} s  {gflops:6.1f} GFLOP/s ({gflops / peak:.0%} of peak)  "
              f"{memory_text(run)}")
    rate = {run["variant"]: run["rate"] for run in runs}
    line = (f"  ratio stacked / reference: {rate['stacked'] / rate['reference']:.1f}x   "
            f"stacked / alone: {rate['stacked'] / rate['alone']:.1f}x")
    if "grouped" in rate:
        line += f"   grouped / reference: {rate['grouped'] / rate['reference']:.1f}x"
    print(line)


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
    cfg = {key: spec[key] for key in ("optimizer", "lr", "batch_size", "momentum",
                                      "weight_decay") if key in spec}
    cfg.update(iterations=iterations, eval_every=100)
    jobs = make_jobs(args.models or spec["models"], spec, dataset)
    before = resident_mb()
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    stack = VARIANT_RUNNERS[args.variant](jobs, dataset, cfg, spec["model"], device) or {}
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    peak = (torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda"
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return {"variant": args.variant, "models": len(jobs), "iterations": iterations,
            "seconds": seconds, "rate": len(jobs) * iterations / seconds, "peak_mb": peak,
            "added_mb": peak - before, "device": str(device), "threads": torch.get_num_threads(),
            "flops_per_iteration": training_flops(spec, dataset), **stack}


def training_flops(spec: dict, dataset) -> int:
    """Floating-point operations of one training step of one network: forward and the two
    backward products, 2 x 3 x multiply-accumulates per example, of the dense layers."""
    from experiments import flops

    model = build(dataset, spec["model"], "cpu")
    return 6 * flops.count(model, dataset.input_shape).flops * spec["batch_size"]


def resident_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_data(workload: str, data_root: str, device):
    import torch

    from experiments.data import Dataset, Split, load_dataset

    if workload.startswith("mnist1d"):
        return load_dataset({"name": "mnist1d", "validation": 500}, data_root, device, 0)
    draw = torch.Generator().manual_seed(0)
    shape, counts = (((1, 28, 28), (55_000, 5_000, 10_000)) if workload == "lenet"
                     else ((3, 32, 32), (45_000, 200, 200)))

    def split(count: int) -> Split:
        x = torch.randn(count, *shape, generator=draw)
        return Split(x.to(device), torch.randint(0, 10, (count,), generator=draw).to(device))

    return Dataset(name="synthetic", train=split(counts[0]), val=split(counts[1]),
                   test=split(counts[2]), num_classes=10, input_shape=shape, augment=None)


def make_jobs(count: int, spec: dict, dataset) -> list:
    import torch

    from experiments.batched_training import TrainJob
    from experiments.masks import dense_mask, layer_kinds, magnitude_prune
    from experiments.training import state_snapshot

    jobs = []
    for index in range(count):
        torch.manual_seed(index)
        model = build(dataset, spec["model"], "cpu")
        weights = state_snapshot(model)
        mask = dense_mask(model)
        if spec["density"] < 1:
            mask = magnitude_prune(weights, mask, {"linear": 0.8, "output": 0.5},
                                   "layerwise", layer_kinds(model))
        jobs.append(TrainJob(weights, mask, data_seed=index))
    return jobs


def run_reference(jobs, dataset, cfg, model_cfg, device) -> None:
    import torch
    import torch.nn.functional as F
    from torch.utils.data import DataLoader, TensorDataset

    train_set = TensorDataset(dataset.train.x.cpu(), dataset.train.y.cpu())
    val_set = TensorDataset(dataset.val.x.cpu(), dataset.val.y.cpu())
    for job in jobs:
        model = build(dataset, model_cfg, device)
        model.load_state_dict(job.start_weights)
        masked = [(dict(model.named_parameters())[name], keep.to(device, torch.float32))
                  for name, keep in job.mask.items()]
        optimizer = (torch.optim.Adam(model.parameters(), lr=cfg["lr"]) if cfg["optimizer"] == "adam"
                     else torch.optim.SGD(model.parameters(), lr=cfg["lr"],
                                          momentum=cfg["momentum"],
                                          weight_decay=cfg["weight_decay"]))
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


def run_alone(jobs, dataset, cfg, model_cfg, device) -> None:
    from experiments.batched_training import train_jobs

    train_jobs(jobs, lambda: build(dataset, model_cfg, device), dataset, cfg, stack=False)


def run_grouped(jobs, dataset, cfg, model_cfg, device) -> dict:
    from experiments import batched_training

    batched_training.GROUPED_CONVS[device.type] = True
    return run_stacked(jobs, dataset, cfg, model_cfg, device)


def stack_convs(device) -> None:
    """Conv nets stack here even where the trainer would train them one at a time (the CPU):
    this is the measurement that decides that."""
    from experiments import batched_training

    batched_training.STACK_CONVS[device.type] = True


def run_stacked(jobs, dataset, cfg, model_cfg, device) -> dict:
    from experiments.batched_training import bytes_per_model, models_per_stack, train_jobs

    stack_convs(device)
    train_jobs(jobs, lambda: build(dataset, model_cfg, device), dataset, cfg)
    model = build(dataset, model_cfg, device)
    size = min(len(jobs), models_per_stack(model, dataset, cfg, device))
    return {"stack_size": size,
            "estimate_mb": size * bytes_per_model(model, dataset, cfg) / 2**20}


def build(dataset, model_cfg: dict, device):
    from experiments.models import build_model

    return build_model(model_cfg, dataset.input_shape, dataset.num_classes).to(device)


VARIANT_RUNNERS = {"reference": run_reference, "alone": run_alone, "stacked": run_stacked,
                   "grouped": run_grouped}

if __name__ == "__main__":
    sys.exit(main())
