"""Train a masked network and evaluate it on the validation and test splits.

Pruned weights stay exactly zero and never move, whatever the optimizer: after every backward pass
the gradients of pruned weights are zeroed (so momentum buffers and Adam moments of pruned weights
stay zero too, L2 decay of a zero weight adds zero, decoupled decay scales zero to zero), and
after every step the weights are multiplied by the mask again as a guard.
A ``MaskUpdate`` (dynamic sparse training) may replace the mask at the steps it asks for; from
then on the same holds for the new mask, and the weights it newly keeps start at zero.

``precision: bfloat16`` in the config runs the forward and backward products in bfloat16 under
autocast (weights, optimizer state and evaluation sums stay float32); the default is float32.

Early stopping is read off, not enforced: training always runs to step ``iterations``, evaluating
every ``eval_every`` steps and after the last; the early-stop iteration is the evaluation with the
lowest validation loss (the earliest on ties).

Resuming (``start_iteration`` k, Frankle et al. 2020; open_lth's ``start_step``): a run that starts
from theta_k trains steps k+1..T only, with the batches and learning rates the run from step 0
uses at those steps, so its iterations, evaluations and early-stop iteration are on the same clock
as the run from step 0. The optimizer state starts fresh (zero moments), as in open_lth.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Iterator, Protocol

import torch
import torch.nn.functional as F
from torch import nn

from experiments.budget import INSIDE_BUDGET
from experiments.data import Dataset, Split, iterate_batches
from experiments.masks import Mask, apply_mask, prunable_weights
from experiments.seeding import derive_seed, generator

StateDict = dict[str, torch.Tensor]
# Called with the model after each backward pass, before the step (e.g. a penalty's gradient).
GradHook = Callable[[nn.Module], None]


class MaskUpdate(Protocol):
    """Changes a job's mask while it trains (dynamic sparse training: experiments/methods/rigl.py).

    At a step where ``due(iteration)``, after the backward pass and before the gradients are
    masked, ``new_mask`` gets the weights, their dense gradients (pruned weights included) and
    the current mask (bool), layer name -> tensor of the weight's shape, and returns the mask to
    train on from this step on. The trainer zeroes newly kept weights and the optimizer state of
    every weight whose mask changed (``replace_mask``)."""

    def due(self, iteration: int) -> bool: ...

    def new_mask(self, iteration: int, weights: StateDict, grads: StateDict, mask: Mask) -> Mask: ...


@torch.no_grad()
def replace_mask(weight: torch.Tensor, keep: torch.Tensor, new: torch.Tensor,
                 state: list[torch.Tensor]) -> None:
    """Make ``new`` (bool) the mask of ``weight`` in place: ``keep`` (the trainer's float mask)
    takes it, weights kept only now start at zero, and the optimizer's per-weight ``state``
    tensors (moments, momentum) restart at zero wherever the mask changed."""
    new = new.to(keep.device)
    old = keep.bool()
    changed = new != old
    weight.masked_fill_(new & ~old, 0.0)
    keep.copy_(new)
    for tensor in state:
        tensor.masked_fill_(changed, 0.0)


@dataclass
class EvalPoint:
    """One evaluation during training."""

    iteration: int
    val_loss: float
    val_acc: float
    test_acc: float


@dataclass
class TrainResult:
    """Outcome of one training run; weights are CPU copies of the model's state dict."""

    history: list[EvalPoint]
    final_weights: StateDict
    snapshot: StateDict | None = None  # weights after ``snapshot_iteration`` steps, if asked
    start_iteration: int = 0  # the step training resumed at (0: from the start)
    # Weights after each of ``snapshot_iterations`` steps (early-bird's search), by iteration.
    snapshots: dict[int, StateDict] = field(default_factory=dict)
    final_mask: Mask | None = None  # the mask at the end, when a MaskUpdate changed it
    best: EvalPoint = field(init=False)

    def __post_init__(self) -> None:
        # min() keeps the first of equal losses: the earliest iteration wins ties.
        self.best = min(self.history, key=lambda point: point.val_loss)

    def metrics(self) -> dict[str, float | int]:
        """The scalar results a rounds.csv row reports."""
        final = self.history[-1]
        return {"test_acc": self.best.test_acc, "val_acc": self.best.val_acc,
                "val_loss": self.best.val_loss, "early_stop_iter": self.best.iteration,
                "final_test_acc": final.test_acc, "final_val_acc": final.val_acc,
                # steps actually trained: T - k for a run resumed at k
                "iterations": final.iteration - self.start_iteration}

    def late_gains(self) -> dict[str, float]:
        """What the evaluations from INSIDE_BUDGET of the steps on added to the early-stopped
        network: ``late_val_loss_gain``, the lowest validation loss before that point minus the
        lowest overall (>= 0; 0 when the lowest lies before it), and ``late_test_acc_gain``, the
        change of the reported test accuracy against stopping at that earlier lowest point. A
        lowest loss in the last tenth may be a network still learning, or one whose loss only
        drifts at the schedule's smallest rate; these say which."""
        cutoff = self.start_iteration + INSIDE_BUDGET * (self.history[-1].iteration
                                                         - self.start_iteration)
        early = [point for point in self.history if point.iteration < cutoff]
        if not early:
            return {"late_val_loss_gain": 0.0, "late_test_acc_gain": 0.0}
        inside = min(early, key=lambda point: point.val_loss)  # the earliest of equal losses
        return {"late_val_loss_gain": inside.val_loss - self.best.val_loss,
                "late_test_acc_gain": self.best.test_acc - inside.test_acc}


def state_snapshot(model: nn.Module) -> StateDict:
    """CPU copy of the model's parameters and buffers."""
    return {name: value.detach().to("cpu", copy=True) for name, value in model.state_dict().items()}


def build_optimizer(params: list[nn.Parameter], cfg: dict) -> torch.optim.Optimizer:
    """sgd (with momentum), adam or adamw with the config's lr and weight decay."""
    name, lr, decay = cfg["optimizer"], cfg["lr"], cfg.get("weight_decay", 0.0)
    # The fused kernels do one pass over all parameters: on small networks the per-parameter
    # Python loop of the default implementation costs more than the arithmetic.
    common = {"lr": lr, "weight_decay": decay, "fused": True}
    if name == "sgd":
        return torch.optim.SGD(params, momentum=cfg.get("momentum", 0.0), **common)
    if name == "adam":
        return torch.optim.Adam(params, **common)
    if name == "adamw":
        return torch.optim.AdamW(params, **common)
    raise ValueError(f"unknown optimizer {name!r} (known: sgd, adam, adamw)")


def resumed_schedule(optimizer: torch.optim.Optimizer, cfg: dict,
                     start: int) -> torch.optim.lr_scheduler.LambdaLR:
    """The learning-rate schedule of ``cfg`` as it stands after ``start`` steps."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: lr_factor(step + start, cfg))


def lr_factor(step: int, cfg: dict) -> float:
    """Multiplier of the peak lr for the step after ``step`` steps: warm-up, then milestones,
    or with ``lr_schedule: cosine`` a cosine decay from the peak to zero at ``iterations``."""
    warmup = cfg.get("warmup_iterations", 0)
    ramp = min(1.0, (step + 1) / warmup) if warmup else 1.0
    if cfg.get("lr_schedule") == "cosine":
        return ramp * 0.5 * (1.0 + math.cos(math.pi * step / cfg["iterations"]))
    passed = sum(1 for milestone in cfg.get("lr_milestones", []) if step >= milestone)
    return ramp * cfg.get("lr_gamma", 0.1) ** passed


@torch.no_grad()
def evaluate(model: nn.Module, split: Split, batch_size: int) -> tuple[float, float]:
    """(mean cross-entropy loss, accuracy) of ``model`` on ``split``, in eval mode."""
    was_training = model.training
    model.eval()
    loss_sum, correct = 0.0, 0
    for start in range(0, len(split.y), batch_size):
        x, y = split.x[start:start + batch_size], split.y[start:start + batch_size]
        logits = model(x)  # (B, num_classes)
        loss_sum += F.cross_entropy(logits, y, reduction="sum").item()
        correct += int((logits.argmax(dim=1) == y).sum())
    model.train(was_training)
    return loss_sum / len(split.y), correct / len(split.y)


def _batches(dataset: Dataset, batch_size: int, order: torch.Generator) -> Iterator[tuple]:
    """Endless stream of training batches, epoch after epoch, in the generator's order."""
    while True:
        yield from iterate_batches(dataset.train, batch_size, order)


class _MaskedStep:
    """One optimizer step that keeps pruned weights at exactly zero."""

    def __init__(self, model: nn.Module, mask: Mask, cfg: dict, grad_hook: GradHook | None = None,
                 start: int = 0, mask_update: MaskUpdate | None = None):
        self.model, self.grad_hook, self.mask_update = model, grad_hook, mask_update
        weights = prunable_weights(model)
        self.names = list(weights)
        # (param, float mask on the param's device) pairs; the mask multiplies grads and weights.
        self.masked = [(weights[name], mask[name].to(weights[name].device, weights[name].dtype))
                       for name in weights]
        self.optimizer = build_optimizer(list(model.parameters()), cfg)
        self.schedule = resumed_schedule(self.optimizer, cfg, start)
        self.iteration = start

    def __call__(self, loss: torch.Tensor) -> None:
        self.iteration += 1
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.grad_hook is not None:
            # Before the masking below, so pruned weights stay frozen whatever the hook adds.
            self.grad_hook(self.model)
        if self.mask_update is not None and self.mask_update.due(self.iteration):
            self._update_mask()
        for param, keep in self.masked:
            if param.grad is not None:
                param.grad.mul_(keep)
        self.optimizer.step()
        self.schedule.step()
        with torch.no_grad():
            for param, keep in self.masked:
                param.mul_(keep)

    def _update_mask(self) -> None:
        """The MaskUpdate's new mask, from the dense gradients of this step."""
        weights = {name: param.detach() for name, (param, _) in zip(self.names, self.masked)}
        grads = {name: param.grad for name, (param, _) in zip(self.names, self.masked)}
        current = {name: keep.bool() for name, (_, keep) in zip(self.names, self.masked)}
        new = self.mask_update.new_mask(self.iteration, weights, grads, current)
        for name, (param, keep) in zip(self.names, self.masked):
            state = self.optimizer.state.get(param, {})
            replace_mask(param, keep, new[name], [value for value in state.values()
                                                  if value.shape == param.shape])

    def mask(self) -> Mask:
        """The current mask, as CPU bool tensors."""
        return {name: keep.bool().cpu() for name, (_, keep) in zip(self.names, self.masked)}


def train(
    model: nn.Module,
    mask: Mask,
    dataset: Dataset,
    cfg: dict,
    *,
    data_seed: int,
    snapshot_iteration: int | None = None,
    grad_hook: GradHook | None = None,
    start_iteration: int = 0,
    snapshot_iterations: tuple[int, ...] = (),
    mask_update: MaskUpdate | None = None,
) -> TrainResult:
    """Train ``model`` (already holding its starting weights) under ``mask`` from step
    ``start_iteration`` to ``cfg["iterations"]``; batches come in the order drawn from
    ``data_seed``, resumed at ``start_iteration`` (module docstring).
    ``grad_hook(model)``, if given, runs after every backward pass, before the step;
    ``mask_update`` may change the mask at the steps it is due (``MaskUpdate``)."""
    apply_mask(model, mask)
    step = _MaskedStep(model, mask, cfg, grad_hook, start_iteration, mask_update)
    snapshots: dict[int, StateDict] = {}
    torch.manual_seed(data_seed)  # anything drawing from the global RNG (dropout) repeats too
    order = generator(data_seed)
    augment_rng = generator(derive_seed(data_seed, "augment"))
    snapshot = state_snapshot(model) if snapshot_iteration == start_iteration else None
    history: list[EvalPoint] = []
    model.train()
    batches = _augmented(_batches(dataset, cfg["batch_size"], order), dataset, augment_rng)
    for _ in range(start_iteration):
        next(batches)  # the steps before k: drawn (and augmented) to resume the streams at k
    low_precision = cfg.get("precision", "float32") == "bfloat16"
    for iteration in range(start_iteration + 1, cfg["iterations"] + 1):
        x, y = next(batches)
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=low_precision):
            logits = model(x)
        step(F.cross_entropy(logits.float(), y))
        if iteration == snapshot_iteration:
            snapshot = state_snapshot(model)
        if iteration in snapshot_iterations:
            snapshots[iteration] = state_snapshot(model)
        if iteration % cfg["eval_every"] == 0 or iteration == cfg["iterations"]:
            history.append(_evaluate_point(model, dataset, cfg, iteration))
    return TrainResult(history=history, final_weights=state_snapshot(model), snapshot=snapshot,
                       start_iteration=start_iteration, snapshots=snapshots,
                       final_mask=step.mask() if mask_update is not None else None)


def _augmented(batches: Iterator[tuple], dataset: Dataset,
               rng: torch.Generator) -> Iterator[tuple]:
    """``batches`` through the dataset's augmentation, if it has one."""
    for x, y in batches:
        yield (dataset.augment(x, rng) if dataset.augment is not None else x), y


def _evaluate_point(model: nn.Module, dataset: Dataset, cfg: dict, iteration: int) -> EvalPoint:
    batch_size = cfg.get("eval_batch_size", 1000)
    val_loss, val_acc = evaluate(model, dataset.val, batch_size)
    check_finite(val_loss, iteration)
    _, test_acc = evaluate(model, dataset.test, batch_size)
    return EvalPoint(iteration=iteration, val_loss=val_loss, val_acc=val_acc, test_acc=test_acc)


class Diverged(FloatingPointError):
    """Training diverged: the validation loss is no longer finite. ``model`` is the network's
    position among the jobs trained together (batched_training.train_jobs); None alone."""

    def __init__(self, val_loss: float, iteration: int, model: int | None = None):
        super().__init__(f"validation loss is {val_loss} at iteration {iteration}: "
                         "training diverged (lower the learning rate?)")
        self.val_loss, self.iteration, self.model = val_loss, iteration, model


def check_finite(val_loss: float, iteration: int, model: int | None = None) -> None:
    """Diverged when training diverged. Checked at evaluations rather than every step:
    reading the loss each step would stall a GPU."""
    if not math.isfinite(val_loss):
        raise Diverged(val_loss, iteration, model)
