"""Network slimming's sparsity penalty (Liu et al. 2017): lambda * sum |gamma| over the scales
of every batch norm, added to the training loss of the dense network so that unimportant
channels end with scales near zero and can be removed.

The penalty is applied through its subgradient, lambda * sign(gamma), added to each scale's
gradient after the backward pass (a `experiments.training.train` ``grad_hook``), rather than
by adding the penalty to the loss: the result is the same step, without building the penalty
into the autograd graph. sign(0) = 0, so a scale that is exactly zero gets no push.
"""

from __future__ import annotations

import torch
from torch import nn

from experiments.models.conv import BATCH_NORMS
from experiments.training import GradHook


def batch_norm_scales(model: nn.Module) -> list[nn.Parameter]:
    """The scale (gamma) of every affine batch norm of ``model``, in module order."""
    return [module.weight for module in model.modules()
            if isinstance(module, BATCH_NORMS) and module.weight is not None]


def penalty_hook(model: nn.Module, penalty: float) -> GradHook:
    """A grad hook adding ``penalty * sign(gamma)`` to the gradient of every batch-norm scale.

    ValueError if ``penalty`` is negative or ``model`` has no batch norm to slim.
    """
    if isinstance(penalty, bool) or not isinstance(penalty, (int, float)) or penalty < 0:
        raise ValueError(f"slimming penalty must be a number >= 0, got {penalty!r}")
    if not batch_norm_scales(model):
        raise ValueError(f"{type(model).__name__} has no batch norm: network slimming needs "
                         "batch-norm scales (model option batch_norm: true)")

    def add_penalty(trained: nn.Module) -> None:
        with torch.no_grad():
            for scale in batch_norm_scales(trained):
                push = torch.sign(scale) * penalty
                if scale.grad is None:
                    scale.grad = push
                else:
                    scale.grad.add_(push)

    return add_penalty
