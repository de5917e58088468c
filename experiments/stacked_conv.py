"""Many copies of one convolutional network (``ConvNet``: convolutions, optional batch norm,
ReLU, max-pooling, then Linear layers) run as one network.

K copies with the same shapes train as one: their channels lie side by side, copy k's in
channels k*C..(k+1)*C-1 of a (B, K*C, *spatial) activation, so that

- each convolution is one grouped convolution with groups=K (weights (K*O, C, *kernel));
- each batch norm is one batch norm over K*C channels: every channel's statistics, running
  averages and gradients are its own, as in the lone copy;
- max-pooling and ReLU act per channel anyway;
- after the flatten the features move to a leading model axis, (K, B, F), and the Linear layers
  are stacked products (experiments/stacked.py).

Each copy sees its own batch (batch norm statistics are per channel, hence per copy). Batch norm,
pooling, ReLU and the Linear products give every copy exactly the numbers of its lone forward
and backward pass on one CPU thread. Grouped convolution is the same maths, but oneDNN picks its
kernel (blocking, summation order) by shape, and for some channel counts (those of the narrowed
nets; any layer with one input channel) the grouped kernel rounds differently from the lone
layer's. So ``grouped=False`` (what the CPU trainer uses, experiments/batched_training.py) runs
one convolution per copy on its block of channels: bit for bit the lone layer, the rest stacked.
Layers with one input channel per copy run per copy in either mode (no slower there, and exact).
float32 only: a bfloat16 experiment trains its conv nets one at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from experiments.models.conv import ConvNet
from experiments.stacked import _StackedLinear

CONVS = (nn.Conv1d, nn.Conv2d)
NORMS = (nn.BatchNorm1d, nn.BatchNorm2d)
POOLS = (nn.MaxPool1d, nn.MaxPool2d)


@dataclass(frozen=True)
class Op:
    """One layer of the stack: its kind, state-dict prefix and (for conv, norm, pool) options."""

    kind: str  # conv, norm, relu, pool, flatten, linear
    name: str = ""
    options: tuple = ()


@dataclass(frozen=True)
class ConvStack:
    """How K copies of a ConvNet run together (module docstring)."""

    input_shape: tuple[int, ...]  # (C, L) or (C, H, W): what the lone forward reshapes to
    ops: tuple[Op, ...]
    param_names: tuple[str, ...]  # trainable tensors, in the lone model's order
    masked_names: tuple[str, ...]  # prunable weights (conv and Linear)
    buffer_names: tuple[str, ...]  # batch-norm running statistics and step counters
    scale_names: tuple[str, ...]  # batch-norm scales (network slimming's penalty)
    grouped: bool = True  # one grouped convolution, or one convolution per copy (exact)

    def forward(self, params: dict[str, Tensor], x: Tensor, *, buffers: dict[str, Tensor],
                training: bool, shared: bool = False,
                dtype: torch.dtype = torch.float32) -> Tensor:
        """Logits (K, B, classes). ``params``: name -> (K, *shape); ``buffers``: name -> (K, C)
        running statistics, updated in place when ``training``; ``x`` (K, B, *input) or, with
        ``shared``, (B, *input) shown to every copy."""
        models = params[self.param_names[0]].shape[0]
        hidden = self._channels_side_by_side(x, models, shared)
        for op in self.ops:
            hidden = self._apply(op, hidden, params, buffers, training, models, self.grouped)
        return hidden

    def _channels_side_by_side(self, x: Tensor, models: int, shared: bool) -> Tensor:
        """(K, B, *input) or shared (B, *input) -> (B, K*C, *spatial), copy k's channels in
        block k."""
        if shared:
            batch = x.reshape(x.shape[0], *self.input_shape)
            return batch.repeat(1, models, *([1] * (len(self.input_shape) - 1)))
        batch = x.reshape(models, x.shape[1], *self.input_shape).transpose(0, 1)
        return batch.reshape(x.shape[1], models * self.input_shape[0], *self.input_shape[1:])

    @staticmethod
    def _apply(op: Op, hidden: Tensor, params: dict[str, Tensor], buffers: dict[str, Tensor],
               training: bool, models: int, grouped: bool) -> Tensor:
        if op.kind == "conv":
            weight = params[op.name + ".weight"]  # (K, O, C, *kernel)
            bias = params.get(op.name + ".bias")
            conv = F.conv1d if weight.dim() == 4 else F.conv2d
            if not grouped or weight.shape[2] == 1:
                return torch.cat([conv(part.contiguous(), weight[k], None if bias is None else bias[k],
                                       *op.options)
                                  for k, part in enumerate(hidden.chunk(models, dim=1))], dim=1)
            return conv(hidden, weight.flatten(0, 1), None if bias is None else bias.flatten(),
                        *op.options, groups=models)
        if op.kind == "norm":
            momentum, eps = op.options
            if training:
                buffers[op.name + ".num_batches_tracked"].add_(1)
            # (K, C) buffers are contiguous: the flat views share their storage, so the
            # running averages batch norm writes land in each copy's rows.
            return F.batch_norm(hidden, buffers[op.name + ".running_mean"].view(-1),
                                buffers[op.name + ".running_var"].view(-1),
                                params[op.name + ".weight"].flatten(),
                                params[op.name + ".bias"].flatten(), training, momentum, eps)
        if op.kind == "relu":
            return torch.relu(hidden)
        if op.kind == "pool":
            pool = F.max_pool1d if hidden.dim() == 3 else F.max_pool2d
            return pool(hidden, *op.options)
        if op.kind == "flatten":  # (B, K*C, *spatial) -> (K, B, C*prod(spatial))
            return hidden.reshape(hidden.shape[0], models, -1).transpose(0, 1).contiguous()
        return _StackedLinear.apply(hidden, params[op.name + ".weight"],
                                    params[op.name + ".bias"], torch.float32)


def conv_stack(model: nn.Module, grouped: bool = True) -> ConvStack | None:
    """The stack plan of a ConvNet (any widths, with or without batch norm); None for any other
    model or layer kind. ``grouped``: one grouped convolution per layer (fast), else one per copy
    (bit for bit; module docstring)."""
    if not isinstance(model, ConvNet):
        return None
    ops = []
    for index, module in enumerate(model.layers):
        op = _op(f"layers.{index}", module)
        if op is None:
            return None
        ops.append(op)
    state = model.state_dict()
    params = tuple(name for name, _ in model.named_parameters())
    return ConvStack(
        model.input_shape, tuple(ops), params,
        tuple(f"layers.{i}.weight" for i, m in enumerate(model.layers)
              if isinstance(m, CONVS + (nn.Linear,))),
        tuple(name for name in state if name not in params),
        tuple(f"layers.{i}.weight" for i, m in enumerate(model.layers) if isinstance(m, NORMS)),
        grouped)


def _op(name: str, module: nn.Module) -> Op | None:
    """The Op of one layer; None for a layer the stack cannot run."""
    if isinstance(module, CONVS) and module.padding_mode == "zeros":
        return Op("conv", name, (module.stride, module.padding, module.dilation))
    if isinstance(module, NORMS) and module.affine and module.track_running_stats \
            and module.momentum is not None:
        return Op("norm", name, (module.momentum, module.eps))
    if isinstance(module, nn.ReLU):
        return Op("relu")
    if isinstance(module, POOLS):
        return Op("pool", name, (module.kernel_size, module.stride, module.padding,
                                 module.dilation, module.ceil_mode))
    if isinstance(module, nn.Flatten):
        return Op("flatten")
    if isinstance(module, nn.Linear):
        return Op("linear", name)
    return None
