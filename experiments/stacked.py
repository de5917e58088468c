"""Many copies of one fully connected network, run as one network along a leading model axis.

K MLPs with the same widths and their own weights run together: each Linear layer is a batched
matrix product over the model axis, (K, B, in) x (K, out, in) -> (K, B, out). The backward pass is
written out rather than left to autograd, so that each model's gradients come from exactly the
products torch's nn.Linear computes for a single model (grad_weight = grad_out^T @ input,
grad_input = grad_out @ weight, grad_bias = grad_out summed over the batch). Autograd's own
derivative of a batched product computes grad_weight transposed, which rounds differently; with
the products written out, a model trained in a stack is bit-identical on the CPU to the same
model trained alone (tests/experiments/test_stacked.py checks both claims).

Only chains of Linear and ReLU layers stack here (the MLP, residual or not, and LeNet-300-100);
conv nets stack in experiments/stacked_conv.py, other models train one at a time
(experiments/batched_training.py decides).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from experiments.models.mlp import MLP


class _StackedLinear(torch.autograd.Function):
    """y[k] = x[k] @ weight[k]^T + bias[k] for every model k, in ``dtype``."""

    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor, bias: Tensor, dtype: torch.dtype) -> Tensor:
        # x (K, B, in), weight (K, out, in), bias (K, out) -> (K, B, out)
        ctx.save_for_backward(x, weight)
        ctx.dtype = dtype
        if dtype == x.dtype:
            return torch.baddbmm(bias.unsqueeze(1), x, weight.transpose(1, 2))
        product = torch.bmm(x.to(dtype), weight.to(dtype).transpose(1, 2))
        return product.to(x.dtype) + bias.unsqueeze(1)

    @staticmethod
    def backward(ctx, grad: Tensor):
        x, weight = ctx.saved_tensors  # grad (K, B, out)
        low = grad.to(ctx.dtype)
        grad_x = None
        if ctx.needs_input_grad[0]:
            grad_x = torch.bmm(low, weight.to(ctx.dtype)).to(x.dtype)  # (K, B, in)
        grad_weight = torch.bmm(low.transpose(1, 2), x.to(ctx.dtype)).to(weight.dtype)
        return grad_x, grad_weight, grad.sum(1), None


@dataclass(frozen=True)
class LinearChain:
    """A network that stacks: its Linear layers in order, as (weight name, bias name) pairs of its
    state dict, with a ReLU after every layer but the last."""

    layers: tuple[tuple[str, str], ...]
    # Per layer: whether its input is added to its output (the MLP's ``residual``).
    skips: tuple[bool, ...]
    # What the trainer asks of any stack (experiments/stacked_conv.py has the same names).
    buffer_names: tuple[str, ...] = ()
    scale_names: tuple[str, ...] = ()

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(name for layer in self.layers for name in layer)

    @property
    def masked_names(self) -> tuple[str, ...]:
        return tuple(weight for weight, _ in self.layers)

    def forward(self, params: dict[str, Tensor], x: Tensor, *, shared: bool = False,
                dtype: torch.dtype = torch.float32, buffers: dict | None = None,
                training: bool = True) -> Tensor:
        """Logits (K, B, classes) of the K stacked models ``params`` (name -> (K, *shape)).

        ``x`` is (K, B, *input_shape), one batch per model, or with ``shared`` (B, *input_shape),
        one batch shown to every model. ``buffers`` and ``training`` are unused: an MLP has
        no batch norm.
        """
        models = params[self.layers[0][0]].shape[0]
        # A shared batch is broadcast (stride 0 along the model axis), not copied K times.
        hidden = x.flatten(1).unsqueeze(0).expand(models, -1, -1) if shared else x.flatten(2)
        for index, ((weight, bias), skip) in enumerate(zip(self.layers, self.skips)):
            out = _StackedLinear.apply(hidden, params[weight], params[bias], dtype)
            if index < len(self.layers) - 1:
                out = torch.relu(out)
            hidden = hidden + out if skip else out
        return hidden


def linear_chain(model: nn.Module) -> LinearChain | None:
    """The chain of an MLP (Flatten, then Linear and ReLU alternating, a Linear last); None for
    any other model, which then trains one copy at a time."""
    if not isinstance(model, MLP):
        return None
    modules = list(model.layers)
    if not isinstance(modules[0], nn.Flatten):
        return None
    expected = [nn.Linear if i % 2 == 0 else nn.ReLU for i in range(len(modules) - 1)]
    if [type(m) for m in modules[1:]] != expected or len(expected) % 2 == 0:
        return None
    return LinearChain(tuple((f"layers.{i}.weight", f"layers.{i}.bias")
                             for i, m in enumerate(modules) if isinstance(m, nn.Linear)),
                       model.skips)
