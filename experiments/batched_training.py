"""Train many masked copies of one network at once: ``train_jobs(jobs, ...)``.

A ``TrainJob`` is one call of ``experiments.training.train`` written down as data (start weights,
mask, data seed; optionally its own architecture, training settings and batch-norm scale
penalty; or a supermask search, whose scores train on frozen weights:
experiments/stacked_supermask.py). Jobs of one shape and settings whose network stacks
(experiments/stacked.py: the MLPs; experiments/stacked_conv.py: the conv nets) train together as
one stacked network, each with its own mask, batch order and optimizer state; the others train
one at a time with ``train``. Either way the results are those of training each job alone:
on the CPU bit for bit, on a GPU within float tolerance (cuBLAS picks kernels by batch shape).

How the stacked loop keeps that promise and keeps a GPU busy:

- on the CPU each model keeps its own leaf tensors, so the fused optimizer updates each one
  exactly as it would a lone model's (its vector loop would otherwise split the elements
  differently); the stack is rebuilt from the leaves, one ``torch.stack`` per tensor, each step.
  On a GPU each tensor is one (K, ...) leaf: a few kernels per step instead of a few per model;
- the batch order of every data seed is drawn up front, epoch by epoch, from the same generator
  calls ``train`` makes, and copied to the device once;
- evaluation runs on the device; each evaluation reads its numbers back once, not per batch.

How many models share one stack is set by the memory the device has free (``models_per_stack``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from experiments.data import Dataset, Split
from experiments.devices import host_free_memory
from experiments.masks import Mask
from experiments.stacked import LinearChain, linear_chain
from experiments.stacked_conv import ConvStack, conv_stack
from experiments.stacked_run_state import BatchPlan, StackWeights
from experiments.stacked_supermask import SupermaskStack, train_supermask_alone
from experiments.structured.slimming import penalty_hook
from experiments.supermasks.learned import SupermaskSpec
from experiments.training import (Diverged, EvalPoint, MaskUpdate, StateDict, TrainResult,
                                  build_optimizer, check_finite, replace_mask, resumed_schedule,
                                  train)

# Share of the free device memory one stack may plan to use; the rest is headroom for the
# allocator and for whatever else runs on the device.
MEMORY_SHARE = 0.5
PRECISIONS = {"float32": torch.float32, "bfloat16": torch.bfloat16}
# Device types whose stacks keep one leaf per (tensor, model); see the module docstring.
PER_MODEL_LEAVES = {"cpu": True, "cuda": False}
# Device types on which conv nets stack. Measured on a 2-core CPU (benchmarks/training.py,
# mnist1d_conv, one thread): stacked 0.8x and grouped 0.9x the rate of one at a time, as the
# convolutions, batch norms and pooling are most of the time and stacking saves none of them; so
# the CPU trains conv nets one at a time. A GPU is starved by such small nets one at a time.
STACK_CONVS = {"cpu": False, "cuda": True}
# Device types whose conv stacks run one grouped convolution per layer; the others run one
# convolution per copy, bit for bit the lone layer's (experiments/stacked_conv.py).
GROUPED_CONVS = {"cpu": False, "cuda": True}


@dataclass
class TrainJob:
    """One training run: from ``start_weights`` under ``mask``, batches in ``data_seed``'s order;
    ``snapshot_iteration`` and ``start_iteration`` (resume at step k) as in
    ``experiments.training.train``."""

    start_weights: StateDict
    mask: Mask
    data_seed: int
    snapshot_iteration: int | None = None
    start_iteration: int = 0
    # A network of its own (a narrowed conv net; its weights are replaced by start_weights) and
    # training settings of its own (fine-tuning, Scratch-B); None: the trial's model and settings.
    model: nn.Module | None = None
    cfg: dict | None = None
    # Network slimming's L1 penalty on the batch-norm scales (experiments/structured/slimming.py).
    scale_penalty: float | None = None
    # Jobs with the same key are the same training (slimming's dense network, wanted by every
    # slim method of a seed): it runs once and each gets the result.
    share: tuple | None = None
    # Steps after which to keep the weights (TrainResult.snapshots), and a hook that changes
    # the mask while training (TrainResult.final_mask); experiments.training has both.
    snapshot_iterations: tuple[int, ...] = ()
    mask_update: MaskUpdate | None = None
    # A supermask search (experiments/stacked_supermask.py): start_weights stay frozen, the
    # spec's scores train; the result's final_weights are the scores.
    supermask: SupermaskSpec | None = None


Stack = LinearChain | ConvStack


def train_jobs(jobs: list[TrainJob], build: Callable[[], nn.Module], dataset: Dataset, cfg: dict,
               *, stack: bool = True, max_models: int | None = None) -> list[TrainResult]:
    """Train every job and return their results in order. ``build()`` makes a model of the jobs'
    architecture on the device; ``cfg`` is the experiment's ``training`` mapping. With ``stack``
    off, or for a network that does not stack, jobs train one at a time."""
    results: dict[int, TrainResult] = {}
    first = _first_of_shared(jobs)
    for group in _groups(jobs, sorted(set(first))):
        job = jobs[group[0]]
        group_cfg = job.cfg if job.cfg is not None else cfg
        group_build = (lambda: job.model) if job.model is not None else build
        for k, result in zip(group, _train_group([jobs[k] for k in group], group, group_build,
                                                 dataset, group_cfg, stack, max_models)):
            results[k] = result
    return [results[first[k]] for k in range(len(jobs))]


def _train_group(jobs: list[TrainJob], positions: list[int], build: Callable[[], nn.Module],
                 dataset: Dataset, cfg: dict, stack: bool,
                 max_models: int | None) -> list[TrainResult]:
    """Jobs of one shape and settings (positions: theirs in the whole list), stacked if they
    can be."""
    model = build()
    device = next(model.parameters()).device
    chain = _stack_of(model, cfg, device) if stack else None
    if chain is None:
        return [_numbered(k, _train_alone, job.model if job.model is not None else build(),
                          job, dataset, cfg) for job, k in zip(jobs, positions)]
    size = models_per_stack(model, dataset, cfg, device)
    size = min(size, max_models) if max_models else size
    results = []
    for start in range(0, len(jobs), size):
        part = jobs[start:start + size]
        run = _StackedRun(chain, part, dataset, cfg, device)
        results += _numbered_in(positions[start:start + size], run.run)
    return results


def _stack_of(model: nn.Module, cfg: dict, device: torch.device) -> Stack | None:
    """How copies of ``model`` stack; None when they train one at a time."""
    chain = linear_chain(model)
    if chain is None and cfg.get("precision", "float32") == "float32" \
            and STACK_CONVS.get(device.type, True):
        chain = conv_stack(model, GROUPED_CONVS.get(device.type, True))
    return chain


def _first_of_shared(jobs: list[TrainJob]) -> list[int]:
    """Per job, the position of the first job with its ``share`` key (its own if none)."""
    seen: dict[tuple, int] = {}
    return [k if job.share is None else seen.setdefault(job.share, k)
            for k, job in enumerate(jobs)]


def _groups(jobs: list[TrainJob], positions: list[int]) -> list[list[int]]:
    """``positions`` grouped by what a stack shares: the layer shapes, the training settings,
    the start iteration (a stack has one clock) and whether it trains weights or supermask
    scores; groups and members in job order."""
    groups: dict[tuple, list[int]] = {}
    for k in positions:
        job = jobs[k]
        shapes = tuple((name, tuple(value.shape)) for name, value in job.start_weights.items())
        key = (shapes, None if job.cfg is None else repr(sorted(job.cfg.items())),
               job.start_iteration, job.supermask is not None)
        groups.setdefault(key, []).append(k)
    return list(groups.values())


def _numbered_in(positions: list[int], call: Callable):
    """``call()``, whose Diverged error names the diverged job's position in the whole list."""
    try:
        return call()
    except Diverged as err:
        err.model = positions[err.model or 0]
        raise


def _numbered(first: int, call: Callable, *args):
    """``call(*args)``, whose Diverged error says which of ``jobs`` diverged: the caller reports
    that network's method, seed and round."""
    try:
        return call(*args)
    except Diverged as err:
        err.model = first + (err.model or 0)
        raise


def _train_alone(model: nn.Module, job: TrainJob, dataset: Dataset, cfg: dict) -> TrainResult:
    if job.supermask is not None:
        return train_supermask_alone(model, job, dataset, cfg)
    model.load_state_dict(job.start_weights)
    hook = None if job.scale_penalty is None else penalty_hook(model, job.scale_penalty)
    return train(model, job.mask, dataset, cfg, data_seed=job.data_seed,
                 snapshot_iteration=job.snapshot_iteration, start_iteration=job.start_iteration,
                 grad_hook=hook, snapshot_iterations=job.snapshot_iterations,
                 mask_update=job.mask_update)


class _StackedRun:
    """The training loop of one stack of models."""

    def __init__(self, chain: Stack, jobs: list[TrainJob], dataset: Dataset, cfg: dict,
                 device: torch.device):
        self.chain, self.jobs, self.dataset, self.cfg = chain, jobs, dataset, cfg
        self.dtype = PRECISIONS[cfg.get("precision", "float32")]
        weights = SupermaskStack if jobs[0].supermask is not None else StackWeights
        self.weights = weights(chain, jobs, device, PER_MODEL_LEAVES.get(device.type, False))
        self.start = jobs[0].start_iteration  # the same for every job of a stack (train_jobs)
        self.optimizer = build_optimizer(self.weights.leaves(), cfg)
        self.schedule = resumed_schedule(self.optimizer, cfg, self.start)
        self.batches = BatchPlan([job.data_seed for job in jobs], dataset, cfg, device)
        for _ in range(self.start):
            self.batches.next()  # the steps before k: drawn (and augmented) to resume at k

    def run(self) -> list[TrainResult]:
        cfg, jobs = self.cfg, self.jobs
        snapshots = {k: self.weights.of_model(k) for k, job in enumerate(jobs)
                     if job.snapshot_iteration == self.start}
        histories: list[list[EvalPoint]] = [[] for _ in jobs]
        series: list[dict[int, StateDict]] = [{} for _ in jobs]  # snapshot_iterations
        for iteration in range(self.start + 1, cfg["iterations"] + 1):
            x, y = self.batches.next()  # (K, B, *input_shape), (K, B)
            self._step(x, y, iteration)
            for k, job in enumerate(jobs):
                if job.snapshot_iteration == iteration:
                    snapshots[k] = self.weights.of_model(k)
                if iteration in job.snapshot_iterations:
                    series[k][iteration] = self.weights.of_model(k)
            if iteration % cfg["eval_every"] == 0 or iteration == cfg["iterations"]:
                for k, point in enumerate(self._evaluate(iteration)):
                    histories[k].append(point)
        return [TrainResult(history=histories[k], final_weights=self.weights.of_model(k),
                            snapshot=snapshots.get(k), start_iteration=self.start,
                            snapshots=series[k],
                            final_mask=self.weights.mask_of(k) if job.mask_update else None)
                for k, job in enumerate(jobs)]

    def _update_masks(self, iteration: int) -> None:
        """Each due MaskUpdate's new mask, from its model's dense gradients of this step."""
        for k, job in enumerate(self.jobs):
            if job.mask_update is None or not job.mask_update.due(iteration):
                continue
            views = self.weights.model_views(k, self.optimizer)
            new = job.mask_update.new_mask(
                iteration, {name: view[0].detach() for name, view in views.items()},
                {name: view[1] for name, view in views.items()},
                {name: view[2].bool() for name, view in views.items()})
            for name, (weight, _, keep, state) in views.items():
                replace_mask(weight, keep, new[name], state)

    def _step(self, x: Tensor, y: Tensor, iteration: int) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        logits = self.chain.forward(self.weights.stacked(), x, dtype=self.dtype,
                                    buffers=self.weights.buffers, training=True)  # (K, B, classes)
        models, batch, classes = logits.shape
        # Per-example losses times 1/B (a float32 division, as cross_entropy's mean makes it):
        # the gradients are bit for bit those of each model's own mean loss, in one call.
        losses = F.cross_entropy(logits.reshape(models * batch, classes), y.reshape(-1),
                                 reduction="none")
        (losses * (torch.ones((), device=losses.device) / batch)).sum().backward()
        self.weights.add_scale_penalties([job.scale_penalty for job in self.jobs])
        self._update_masks(iteration)  # before the masking below: it reads dense gradients
        weights, keeps = self.weights.masked_pairs()
        if weights:  # none in a supermask stack
            torch._foreach_mul_([w.grad for w in weights], keeps)
        self.optimizer.step()
        self.schedule.step()
        self.weights.apply_masks()

    @torch.no_grad()
    def _evaluate(self, iteration: int) -> list[EvalPoint]:
        params = self.weights.stacked(training=False)
        val, test = self._sums(params, self.dataset.val), self._sums(params, self.dataset.test)
        read = torch.cat(val + test).tolist()  # the one read from the device
        cut = len(val) * 2 * len(self.jobs)
        val_loss, val_acc = self._means(read[:cut], self.dataset.val)
        _, test_acc = self._means(read[cut:], self.dataset.test)
        for k, loss in enumerate(val_loss):
            check_finite(loss, iteration, k)
        return [EvalPoint(iteration, val_loss[k], val_acc[k], test_acc[k])
                for k in range(len(self.jobs))]

    def _sums(self, params: dict[str, Tensor], split: Split) -> list[Tensor]:
        """Per chunk of ``split``: each model's summed loss, then its number of hits (2K,),
        chunked as ``training.evaluate`` chunks."""
        size, models = self.cfg.get("eval_batch_size", 1000), len(self.jobs)
        sums = []
        for start in range(0, len(split.y), size):
            x, y = split.x[start:start + size], split.y[start:start + size]
            logits = self.chain.forward(params, x, shared=True, dtype=self.dtype,
                                        buffers=self.weights.buffers, training=False)
            losses = [F.cross_entropy(logits[k], y, reduction="sum") for k in range(models)]
            hits = (logits.argmax(dim=2) == y).sum(dim=1).to(logits.dtype)
            sums.append(torch.cat([torch.stack(losses), hits]))
        return sums

    def _means(self, read: list[float], split: Split) -> tuple[list[float], list[float]]:
        """Per model: mean loss and accuracy, the chunk sums added in ``evaluate``'s order."""
        models, count = len(self.jobs), len(split.y)
        chunks = [read[start:start + 2 * models] for start in range(0, len(read), 2 * models)]
        losses = [sum(chunk[k] for chunk in chunks) / count for k in range(models)]
        hits = [sum(int(chunk[models + k]) for chunk in chunks) for k in range(models)]
        return losses, [hit / count for hit in hits]


def models_per_stack(model: nn.Module, dataset: Dataset, cfg: dict,
                     device: torch.device) -> int:
    """How many copies of ``model`` one stack may hold on ``device``: MEMORY_SHARE of the free
    memory divided by ``bytes_per_model``."""
    return max(1, int(free_memory(device) * MEMORY_SHARE // bytes_per_model(model, dataset, cfg)))


def bytes_per_model(model: nn.Module, dataset: Dataset, cfg: dict) -> int:
    """Device memory one model of a stack needs: its weights seven times over (leaf, gradient,
    stacked copy and its gradient, mask, up to two optimizer moments) plus the activations of a
    training batch (kept for the backward pass, with their gradients) and of an evaluation chunk."""
    params = sum(p.numel() for p in model.parameters())
    widths = sum(m.out_features for m in model.modules() if isinstance(m, nn.Linear))
    # A conv layer's activations: channels times positions, bounded by the input's positions.
    positions = math.prod(dataset.input_shape[1:]) if len(dataset.input_shape) > 1 \
        else dataset.input_shape[0]
    widths += sum(m.out_channels * positions for m in model.modules()
                  if isinstance(m, (nn.Conv1d, nn.Conv2d)))
    inputs = math.prod(dataset.input_shape)
    train_batch = cfg["batch_size"] * (inputs + 3 * widths)
    eval_batch = cfg.get("eval_batch_size", 1000) * 2 * widths
    return 4 * (7 * params + train_batch + eval_batch)


def free_memory(device: torch.device) -> int:
    """Bytes free on ``device``: the CUDA allocator's view, or what this process may still take
    of the host's memory (experiments/devices.py)."""
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    return host_free_memory()
