"""Pruning at initialisation (PaI): the criteria that choose a mask at theta_0, before training.

Each criterion scores every prunable weight of the untrained network; the mask keeps the
``total`` best-scoring weights over all layers at once (global scope, output layer included, as
in SNIP, GraSP and SynFlow's papers and code). Criteria:

- SNIP (Lee et al. 2019): connection sensitivity |g * w| on one minibatch, g = dL/dw at theta_0.
- GraSP (Wang et al. 2020): S = -w * (H g), the Hessian-gradient product by double
  backpropagation, logits divided by a temperature of 200 as in the authors' code. The authors'
  code removes the weights with the HIGHEST S (those whose removal least reduces gradient flow),
  which is what we do; Lubana & Dick (2021) and Frankle et al. (2021) discuss that the paper's
  text and this sign do not obviously agree, and Frankle et al. find the inverted rule no worse.
- SynFlow (Tanaka et al. 2020): data-free. The network is linearised (every parameter and
  buffer replaced by its absolute value, in float64, batch norm in eval mode), an all-ones input
  is passed through, R = sum of the outputs, and a weight scores |w * dR/dw|. Pruning runs for
  ``iterations`` rounds on an exponential schedule (density d^(k/n) after round k of n), the
  scores recomputed on the masked network each time.
- magnitude at init: |theta_0|.

``PruneAtInit`` is the method base: round r trains, from theta_0, the mask keeping as many
weights as the experiment's own pruning schedule keeps after r steps (``schedule_total``), so
PaI runs at the densities of an IMP run with that schedule.
"""

from __future__ import annotations

from abc import abstractmethod

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from experiments.masks import Mask, prunable_weights
from experiments.method_api import Method, MethodContext, RoundRun
from experiments.seeding import derive_seed, generator

GRASP_TEMPERATURE = 200.0  # the authors' code divides the logits by T = 200
SYNFLOW_ITERATIONS = 100  # Tanaka et al.'s default number of pruning rounds

Scores = dict[str, Tensor]


def global_top_mask(scores: Scores, total: int) -> Mask:
    """Keep the ``total`` highest scores over all layers; among equal scores the earlier layer
    and lower flat index is kept first (a stable sort: the same scores give the same mask)."""
    names = list(scores)
    flat = torch.cat([scores[n].detach().flatten().double().cpu() for n in names])
    if not 0 <= total <= flat.numel():
        raise ValueError(f"cannot keep {total} of {flat.numel()} weights")
    kept = torch.zeros(flat.numel(), dtype=torch.bool)
    kept[torch.sort(flat, descending=True, stable=True).indices[:total]] = True
    parts = torch.split(kept, [scores[n].numel() for n in names])
    return {n: part.view(scores[n].shape).clone() for n, part in zip(names, parts)}


def scoring_batch(context: MethodContext) -> tuple[Tensor, Tensor]:
    """One minibatch of training examples (the training batch size), drawn with the trial's
    ``pai_batch`` seed: every data-dependent criterion of a trial scores on the same batch."""
    train = context.dataset.train
    size = min(context.settings.training["batch_size"], len(train))
    order = torch.randperm(len(train), generator=generator(derive_seed(context.seed, "pai_batch")))
    chosen = order[:size].to(train.y.device)
    return train.x[chosen], train.y[chosen]


def snip_scores(model: nn.Module, x: Tensor, y: Tensor) -> Scores:
    """|g * w| for every prunable weight, g the loss gradient on (x, y)."""
    weights = prunable_weights(model)
    loss = F.cross_entropy(model(x), y)
    grads = torch.autograd.grad(loss, list(weights.values()))
    return {name: (g * w).abs().detach() for (name, w), g in zip(weights.items(), grads)}


def hessian_gradient(model: nn.Module, x: Tensor, y: Tensor,
                     temperature: float = GRASP_TEMPERATURE) -> tuple[Scores, Scores]:
    """(g, H g) over the prunable weights, for the loss of logits / temperature on (x, y).

    H g is the gradient of g(w) . stopgrad(g) with respect to w: one double backpropagation.
    """
    weights = list(prunable_weights(model).items())
    params = [w for _, w in weights]
    loss = F.cross_entropy(model(x) / temperature, y)
    grads = torch.autograd.grad(loss, params, create_graph=True)
    dot = sum((g * g.detach()).sum() for g in grads)
    hg = torch.autograd.grad(dot, params)
    return ({n: g.detach() for (n, _), g in zip(weights, grads)},
            {n: h.detach() for (n, _), h in zip(weights, hg)})


def grasp_scores(model: nn.Module, x: Tensor, y: Tensor) -> Scores:
    """Scores to KEEP by: the authors' code removes the highest -w * Hg, so keeping the highest
    of w * Hg keeps the same weights."""
    weights = prunable_weights(model)
    _, hg = hessian_gradient(model, x, y)
    return {name: (weights[name].detach() * hg[name]) for name in weights}


def magnitude_scores(weights: dict[str, Tensor], names: list[str]) -> Scores:
    return {name: weights[name].abs() for name in names}


@torch.no_grad()
def _linearise(model: nn.Module) -> None:
    """Every floating parameter and buffer replaced by its absolute value (SynFlow's |theta|)."""
    for value in model.state_dict().values():
        if value.is_floating_point():
            value.abs_()


def synflow_scores(model: nn.Module, input_shape: tuple[int, ...]) -> Scores:
    """|w * dR/dw| for every prunable weight of ``model`` (already linearised, float64), R the
    sum of its outputs on an all-ones input of shape (1, *input_shape)."""
    weights = prunable_weights(model)
    device = next(iter(weights.values())).device
    ones = torch.ones((1, *input_shape), dtype=torch.float64, device=device)
    grads = torch.autograd.grad(model(ones).sum(), list(weights.values()))
    return {name: (g * w).abs().detach() for (name, w), g in zip(weights.items(), grads)}


def synflow_mask(model: nn.Module, input_shape: tuple[int, ...], total: int,
                 iterations: int = SYNFLOW_ITERATIONS) -> Mask:
    """SynFlow's iterative mask keeping ``total`` weights; ``model`` is modified (linearised,
    pruned weights zeroed). Pruned weights score minus infinity, so successive masks nest."""
    model.double().eval()
    _linearise(model)
    weights = prunable_weights(model)
    mask = {name: torch.ones_like(w, dtype=torch.bool, device="cpu") for name, w in weights.items()}
    size = sum(m.numel() for m in mask.values())
    for k in range(1, iterations + 1):
        keep = total if k == iterations else round(size * (total / size) ** (k / iterations))
        scores = synflow_scores(model, input_shape)
        ranked = {n: s.cpu().masked_fill(~mask[n], float("-inf")) for n, s in scores.items()}
        mask = global_top_mask(ranked, keep)
        with torch.no_grad():
            for name, w in weights.items():
                w.mul_(mask[name].to(w.device, w.dtype))
    return mask


def shuffle_within_layers(mask: Mask, rng: torch.Generator) -> Mask:
    """Each layer's mask randomly permuted: the same count per layer, positions at random."""
    shuffled = {}
    for name, keep in mask.items():
        flat = keep.flatten()
        shuffled[name] = flat[torch.randperm(flat.numel(), generator=rng)].view(keep.shape)
    return shuffled


def schedule_total(context: MethodContext, round_index: int) -> int:
    """Weights kept after ``round_index`` steps of the experiment's pruning schedule (the counts
    depend only on the counting rule, not on which weights the steps remove)."""
    mask, initial = context.dense_mask(), context.initial_weights()
    for _ in range(round_index):
        mask = context.prune(initial, mask)
    return sum(int(keep.sum()) for keep in mask.values())


def initial_model(context: MethodContext) -> nn.Module:
    """The trial's network holding theta_0, on the trial's device, in training mode."""
    model = context.build_model(context.seeds.init)
    model.load_state_dict(context.initial_weights())
    return model.train()


class PruneAtInit(Method):
    """Round r (1..rounds): a mask chosen at theta_0 by ``choose``, trained from theta_0.

    The mask is saved before training, so the controls (experiments/methods/pai_control.py)
    that read it train in the same wave."""

    def rounds(self, round_count: int) -> list[int]:
        return list(range(1, round_count + 1))

    def run_round(self, context: MethodContext, round_index: int) -> RoundRun:
        if context.own.has_mask(round_index):
            mask = context.own.mask(round_index)
        else:
            mask = self.choose(context, schedule_total(context, round_index), round_index)
            context.own.save_mask(round_index, mask)
        result = yield context.job(mask, context.initial_weights())
        return mask, result.metrics()

    @abstractmethod
    def choose(self, context: MethodContext, total: int, round_index: int) -> Mask:
        """The mask keeping ``total`` weights at round ``round_index``."""
