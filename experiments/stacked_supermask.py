"""Supermask searches as training jobs: a ``TrainJob`` with a ``SupermaskSpec``
(experiments/supermasks/learned.py) trains the spec's scores while its start weights stay frozen.

Alone, the job is ``SupermaskNet`` trained by ``experiments.training.train``. In a stack
(experiments/batched_training.py) ``SupermaskStack`` takes the place of the stack's weights:
every model keeps its frozen weights as a buffer and its scores as its own leaves (the trained
parameters), and each step builds, model by model and layer by layer, the effective weight
``frozen * mask(scores) * scale`` with the same function the lone net calls (top-k from a
stable sort, or a Bernoulli draw from the model's own generator), then stacks them into the
(K, out, in) weights of the batched products. So a model trained in a stack draws the same masks
and, on the CPU, gets the same numbers, bit for bit, as trained alone. The mask is built per
model rather than in one batched call because the CPU's elementwise kernels (sigmoid, exp)
round an element differently when it falls in a vector lane or in the scalar tail.

Either way the result's ``final_weights`` are the trained scores (layer name -> tensor); the
method turns them into its mask with ``evaluation_mask``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from experiments.data import Dataset
from experiments.supermasks.learned import SupermaskNet, layer_mask, masked_weight
from experiments.training import StateDict, TrainResult, train

if TYPE_CHECKING:
    from experiments.batched_training import Stack, TrainJob


def train_supermask_alone(model: nn.Module, job: TrainJob, dataset: Dataset,
                          cfg: dict) -> TrainResult:
    """The supermask job ``job`` trained on its own: ``model`` gets the frozen weights."""
    model.load_state_dict(job.start_weights)
    net = SupermaskNet.of_spec(model, job.supermask)
    # Only the scores train; the mask of the trainer keeps every (frozen, unused) base weight.
    everything = {f"base.{name}": torch.ones_like(value) for name, value in job.mask.items()}
    result = train(net, everything, dataset, cfg, data_seed=job.data_seed)
    return replace(result, final_weights=net.score_dict())


class SupermaskStack:
    """What ``_StackedRun`` asks of a stack's weights, for supermask jobs: the leaves the
    optimizer trains are the scores, one set per model; the weights are frozen buffers."""

    def __init__(self, chain: Stack, jobs: list[TrainJob], device: torch.device,
                 per_model: bool):
        del per_model  # scores are always one leaf per model: masks are built per model
        self.specs = [job.supermask for job in jobs]
        # Batch-norm running statistics (K, C) still update while the scores train, as in the
        # lone net, whose buffers stay the module's own.
        self.buffers = {name: torch.stack([job.start_weights[name] for job in jobs]).to(device)
                        for name in chain.buffer_names}
        self.masked_names = chain.masked_names
        self.frozen = [{name: job.start_weights[name].to(device, copy=True)
                        for name in chain.param_names} for job in jobs]
        # The unmasked parameters (biases) never change: stacked once, (K, *shape).
        self.fixed = {name: torch.stack([frozen[name] for frozen in self.frozen])
                      for name in chain.param_names if name not in chain.masked_names}
        self.scores = [{name: spec.scores[name].to(device, copy=True).requires_grad_()
                        for name in chain.masked_names} for spec in self.specs]
        self.samplers = [spec.sampler(device) for spec in self.specs]

    def leaves(self) -> list[Tensor]:
        return [score for scores in self.scores for score in scores.values()]

    def stacked(self, training: bool = True) -> dict[str, Tensor]:
        """Name -> (K, *shape): the effective weights of this step, and the frozen biases."""
        params = dict(self.fixed)
        for name in self.masked_names:
            params[name] = torch.stack([self._weight(k, name, training)
                                        for k in range(len(self.specs))])
        return params

    def _weight(self, k: int, name: str, training: bool) -> Tensor:
        spec, score = self.specs[k], self.scores[k][name]
        mask = layer_mask(spec.style, score, spec.keep.get(name), training, self.samplers[k])
        return masked_weight(self.frozen[k][name], mask, spec.rescale)

    def masked_pairs(self) -> tuple[list[Tensor], list[Tensor]]:
        return [], []  # no weight is trained, so none is masked

    def apply_masks(self) -> None:
        pass

    def add_scale_penalties(self, penalties: list[float | None]) -> None:
        pass  # a search trains no batch-norm scale, so slimming's penalty has none to act on

    def of_model(self, k: int) -> StateDict:
        """Model ``k``'s scores, as CPU tensors keyed by weight name."""
        return {name: score.detach().to("cpu", copy=True)
                for name, score in self.scores[k].items()}
