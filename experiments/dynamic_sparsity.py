"""Sparse training from a random mask, static or dynamic (RigL: Evci et al. 2020, "Rigging the
Lottery: Making All Tickets Winners"), and the training compute of the sparse methods.

- ``erk_counts`` / ``erk_random_mask``: the Erdos-Renyi-Kernel layer densities RigL uses for most
  of its results. Layer l keeps a share proportional to (sum of its dimensions) / (its size),
  scaled so that the whole network keeps a given number of weights; a layer the scale would
  fill beyond 1 stays dense and the rest is scaled again. Small layers (the output layer) end
  up denser than large ones. Positions within a layer are uniform at random.
- ``RigLUpdate``: RigL's mask update, a ``experiments.training.MaskUpdate``. Every
  ``update_every`` steps before ``end``, each layer drops the fraction f(t) = alpha/2 (1 +
  cos(pi t / end)) of its kept weights with the smallest magnitude and grows as many of the
  connections not kept after the drop with the largest dense-gradient magnitude. The trainer
  starts grown weights at zero and zeroes the optimizer state where the mask changed. A
  connection dropped and grown back in the same update keeps its weight, as in RigL's code.
  Ties break by position (stable sorts), so a run is reproducible bit for bit. The update
  comes before that step's optimizer step, so a grown weight takes its first step from the very
  gradient that chose it; the dense gradient is that of the step's own batch.
- Training compute, RigL's accounting (its Appendix H): a step costs a forward pass f and a
  backward pass 2f (gradients of activations and of weights, each as dear as the forward); a
  RigL update step computes the dense weight gradient, so it costs 2 f_S + f_D. Every cost here
  is a fraction of training the dense network for the experiment's T steps (3 f_D T): a static
  sparse run costs f_S / f_D. Multiply-accumulates per example come from experiments/flops.py.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from experiments import flops
from experiments.masks import Mask, random_layer, removal_count

StateDict = dict[str, torch.Tensor]


def erk_counts(shapes: dict[str, tuple[int, ...]], kept: int) -> dict[str, int]:
    """Weights each layer keeps under ERK, ``kept`` in all (exactly)."""
    sizes = {name: math.prod(shape) for name, shape in shapes.items()}
    if not 0 <= kept <= sum(sizes.values()):
        raise ValueError(f"cannot keep {kept} of {sum(sizes.values())} weights")
    raw = {name: sum(shape) / sizes[name] for name, shape in shapes.items()}
    dense: set[str] = set()
    while True:
        free = [name for name in shapes if name not in dense]
        budget = kept - sum(sizes[name] for name in dense)
        scale = budget / sum(raw[name] * sizes[name] for name in free) if free else 0.0
        full = [name for name in free if scale * raw[name] > 1]
        if not full:
            break
        dense.add(max(full, key=lambda name: raw[name]))
    wanted = {name: sizes[name] if name in dense else scale * raw[name] * sizes[name]
              for name in shapes}
    return _whole(wanted, sizes, kept)


def _whole(wanted: dict[str, float], sizes: dict[str, int], kept: int) -> dict[str, int]:
    """Integer counts near ``wanted`` summing to ``kept``: floors, then the largest fractional
    parts get one more (earlier layers first on ties), never beyond a layer's size."""
    counts = {name: min(sizes[name], math.floor(value)) for name, value in wanted.items()}
    order = sorted(wanted, key=lambda name: -(wanted[name] - math.floor(wanted[name])))
    short = kept - sum(counts.values())
    while short > 0:
        for name in order:
            if short and counts[name] < sizes[name]:
                counts[name] += 1
                short -= 1
    return counts


def erk_random_mask(like: Mask, generator: torch.Generator) -> Mask:
    """A random mask keeping as many weights in all as ``like``, spread over layers by ERK."""
    counts = erk_counts({name: tuple(keep.shape) for name, keep in like.items()},
                        sum(int(keep.sum()) for keep in like.values()))
    return {name: random_layer(keep.shape, counts[name], generator) for name, keep in like.items()}


def drop_fraction(iteration: int, alpha: float, end: int) -> float:
    """RigL's cosine schedule: alpha/2 (1 + cos(pi t / end)), zero from ``end`` on."""
    if iteration >= end:
        return 0.0
    return alpha / 2 * (1 + math.cos(math.pi * iteration / end))


def drop_and_grow(weight: torch.Tensor, grad: torch.Tensor, keep: torch.Tensor,
                  fraction: float) -> torch.Tensor:
    """One layer's new mask (bool, ``keep``'s shape): the ``fraction`` of kept weights with the
    smallest |weight| dropped, as many not-kept connections with the largest |grad| grown."""
    flat_keep = keep.flatten().cpu()
    count = removal_count(fraction, int(flat_keep.sum()))
    if count == 0:
        return keep.cpu().clone()
    magnitude = weight.detach().flatten().abs().cpu()
    magnitude[~flat_keep] = math.inf  # never "drop" a connection that is not kept
    new = flat_keep.clone()
    new[torch.sort(magnitude, stable=True).indices[:count]] = False
    gradient = grad.detach().flatten().abs().cpu()
    gradient[new] = -math.inf  # grow among the connections not kept after the drop
    new[torch.sort(gradient, descending=True, stable=True).indices[:count]] = True
    return new.view(keep.shape)


class RigLUpdate:
    """RigL's schedule of mask updates for one training run (``experiments.training.MaskUpdate``)."""

    def __init__(self, update_every: int, alpha: float, end: int):
        self.update_every, self.alpha, self.end = update_every, alpha, end

    def due(self, iteration: int) -> bool:
        return iteration % self.update_every == 0 and iteration < self.end

    def updates(self, iterations: int) -> int:
        """How many steps of a run of ``iterations`` steps update the mask."""
        return sum(1 for t in range(1, iterations + 1) if self.due(t))

    def new_mask(self, iteration: int, weights: StateDict, grads: StateDict, mask: Mask) -> Mask:
        fraction = drop_fraction(iteration, self.alpha, self.end)
        return {name: drop_and_grow(weights[name], grads[name], keep, fraction)
                for name, keep in mask.items()}


def flops_fraction(model: nn.Module, input_shape: tuple[int, ...], mask: Mask) -> float:
    """f_S / f_D: multiply-accumulates per example of ``model`` under ``mask`` over dense."""
    return flops.count(model, input_shape, mask).flops / flops.count(model, input_shape).flops


def rigl_cost(sparse: float, iterations: int, updates: int) -> float:
    """Training compute of a RigL run of ``iterations`` steps, ``updates`` of them mask updates,
    as a fraction of dense training; ``sparse`` is f_S / f_D (module docstring)."""
    plain = (iterations - updates) * 3 * sparse
    update_steps = updates * (2 * sparse + 1)
    return (plain + update_steps) / (3 * iterations)
