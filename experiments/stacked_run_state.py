"""What one stacked run holds (experiments/batched_training.py): every model's weights and
masks (``StackWeights``) and every model's batches in its own data order (``BatchPlan``)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from experiments.data import Dataset
from experiments.masks import Mask
from experiments.seeding import derive_seed, generator
from experiments.training import StateDict

if TYPE_CHECKING:
    from experiments.batched_training import Stack, TrainJob


class StackWeights:
    """The weights and masks of a stack. Each name holds a list of leaves: K of them (one per
    model, ``per_model``) or one (K, ...) tensor."""

    def __init__(self, chain: Stack, jobs: list[TrainJob], device: torch.device,
                 per_model: bool):
        self.per_model, self.chain = per_model, chain
        self.order = list(jobs[0].start_weights)  # the lone state dict's order
        self.params = {name: self._leaves([job.start_weights[name] for job in jobs], device)
                       for name in chain.param_names}
        self.keep = {name: self._leaves([job.mask[name].float() for job in jobs], device)
                     for name in chain.masked_names}
        # Batch-norm running statistics (K, C) and step counters (K,): updated in place, no grad.
        self.buffers = {name: torch.stack([job.start_weights[name] for job in jobs]).to(device)
                        for name in chain.buffer_names}
        self.apply_masks()
        for leaf in self.leaves():
            leaf.requires_grad_()

    def _leaves(self, tensors: list[Tensor], device: torch.device) -> list[Tensor]:
        if self.per_model:
            return [tensor.to(device, copy=True) for tensor in tensors]
        return [torch.stack(tensors).to(device)]

    def leaves(self) -> list[Tensor]:
        return [leaf for leaves in self.params.values() for leaf in leaves]

    def stacked(self, training: bool = True) -> dict[str, Tensor]:
        """Name -> (K, *shape): the stack the forward pass uses (the same in training and
        evaluation; a supermask stack's differ)."""
        return {name: torch.stack(leaves) if self.per_model else leaves[0]
                for name, leaves in self.params.items()}

    def masked_pairs(self) -> tuple[list[Tensor], list[Tensor]]:
        weights = [leaf for name in self.keep for leaf in self.params[name]]
        return weights, [keep for keeps in self.keep.values() for keep in keeps]

    @torch.no_grad()
    def add_scale_penalties(self, penalties: list[float | None]) -> None:
        """Slimming's penalty * sign(scale) added to each penalised model's scale gradients,
        as its lone training's grad hook adds it."""
        for name in self.chain.scale_names:
            for k, penalty in enumerate(penalties):
                if penalty is None:
                    continue
                scale = self.params[name][k] if self.per_model else self.params[name][0]
                grad = scale.grad if self.per_model else scale.grad[k]
                grad.add_(torch.sign(scale if self.per_model else scale[k]) * penalty)

    @torch.no_grad()
    def apply_masks(self) -> None:
        torch._foreach_mul_(*self.masked_pairs())

    def model_views(self, k: int, optimizer: torch.optim.Optimizer) -> dict[str, tuple]:
        """Masked name -> (weight, gradient, float mask, optimizer state tensors) of model
        ``k``, views into the stack that in-place changes write through."""
        views = {}
        for name in self.keep:
            leaf = self.params[name][k if self.per_model else 0]
            state = [value for value in optimizer.state.get(leaf, {}).values()
                     if value.shape == leaf.shape]
            if self.per_model:
                views[name] = (leaf, leaf.grad, self.keep[name][k], state)
            else:
                views[name] = (leaf[k], leaf.grad[k], self.keep[name][0][k],
                               [value[k] for value in state])
        return views

    def mask_of(self, k: int) -> Mask:
        """Model ``k``'s current mask, as CPU bool tensors."""
        return {name: (keeps[k] if self.per_model else keeps[0][k]).bool().cpu()
                for name, keeps in self.keep.items()}

    def of_model(self, k: int) -> StateDict:
        """Model ``k``'s weights, as a CPU state dict."""
        tensors = {name: leaves[k] if self.per_model else leaves[0][k]
                   for name, leaves in self.params.items()}
        tensors.update({name: value[k] for name, value in self.buffers.items()})
        return {name: tensors[name].detach().to("cpu", copy=True) for name in self.order}


class BatchPlan:
    """Training batches of every model, in the order ``train`` would draw for its data seed."""

    def __init__(self, seeds: list[int], dataset: Dataset, cfg: dict, device: torch.device):
        self.split, self.augment = dataset.train, dataset.augment
        self.batch_size, count = cfg["batch_size"], len(dataset.train.y)
        unique = sorted(set(seeds))
        self.model_seed = torch.tensor([unique.index(s) for s in seeds], device=device)
        self.batches_per_epoch = math.ceil(count / self.batch_size)
        epochs = math.ceil(cfg["iterations"] / self.batches_per_epoch)
        # The same generator calls as training._batches: one randperm per epoch.
        orders = []
        for seed in unique:
            draw = generator(seed)
            orders.append(torch.cat([torch.randperm(count, generator=draw)
                                     for _ in range(epochs)]))
        self.orders = torch.stack(orders).to(device)  # (seeds, epochs * count)
        self.augment_rngs = [generator(derive_seed(seed, "augment")) for seed in unique]
        self.count, self.step = count, 0

    def next(self) -> tuple[Tensor, Tensor]:
        epoch, position = divmod(self.step, self.batches_per_epoch)
        start = epoch * self.count + position * self.batch_size
        end = min(start + self.batch_size, (epoch + 1) * self.count)
        self.step += 1
        indices = self.orders[:, start:end]  # (seeds, B)
        x, y = self.split.x[indices], self.split.y[indices]
        if self.augment is not None:
            x = torch.stack([self.augment(batch, rng) for batch, rng in zip(x, self.augment_rngs)])
        return x[self.model_seed], y[self.model_seed]
