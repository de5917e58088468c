"""Size and cost of a (pruned) network, as Blalock et al. (2020) ask every pruning result to report.

``count(model, input_shape, mask)`` gives

- ``params``: every parameter of the model (weights, biases, batch-norm scales and shifts) except
  the weights the mask prunes;
- ``flops``: multiply-accumulates of the Linear and Conv layers for one example, counting only
  kept weights. Activations, pooling and normalisation are left out, as is usual: they cost little
  next to the layers and pruning does not change them.

A Conv layer's cost is (kept weights) x (output positions), which holds whatever its padding and
stride because every output position uses every weight of its filter exactly once. Output
positions are read off a forward pass on a zero input of ``input_shape`` (batch of one).

From two counts, ``ratios`` gives Blalock et al.'s compression ratio (dense params / pruned
params) and theoretical speedup (dense flops / pruned flops).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from experiments.masks import PRUNABLE_MODULES, Mask, prunable_weights


@dataclass(frozen=True)
class Size:
    params: int
    flops: int


def count(model: nn.Module, input_shape: tuple[int, ...], mask: Mask | None = None) -> Size:
    """Parameters and per-example multiply-accumulates of ``model`` under ``mask``."""
    weights = prunable_weights(model)
    if mask is not None and set(mask) != set(weights):
        raise ValueError(f"mask layers {sorted(mask)} do not match model layers {sorted(weights)}")
    kept = {name: int(mask[name].sum()) if mask is not None else weight.numel()
            for name, weight in weights.items()}
    pruned = sum(weights[name].numel() - kept[name] for name in weights)
    params = sum(p.numel() for p in model.parameters()) - pruned
    positions = output_positions(model, input_shape)
    flops = sum(kept[name] * positions[name] for name in weights)
    return Size(params=params, flops=flops)


def output_positions(model: nn.Module, input_shape: tuple[int, ...]) -> dict[str, int]:
    """Weight name -> output positions per example (1 for Linear; length or H*W for Conv)."""
    names = {module: f"{name}.weight" if name else "weight"
             for name, module in model.named_modules() if isinstance(module, PRUNABLE_MODULES)}
    positions: dict[str, int] = {}

    def record(module: nn.Module, _inputs, output: torch.Tensor) -> None:
        # Linear output (1, ..., out): positions are the leading dims after the batch, if any.
        # Conv output (1, C, *spatial): positions are the spatial sizes.
        spatial = output.shape[2:] if not isinstance(module, nn.Linear) else output.shape[1:-1]
        positions[names[module]] = math.prod(spatial)

    hooks = [module.register_forward_hook(record) for module in names]
    was_training = model.training
    try:
        model.eval()
        device = next(model.parameters()).device
        with torch.no_grad():
            model(torch.zeros(1, *input_shape, device=device))
    finally:
        model.train(was_training)
        for hook in hooks:
            hook.remove()
    return positions


def ratios(dense: Size, pruned: Size) -> dict[str, float]:
    """Compression ratio and theoretical speedup of ``pruned`` against ``dense``."""
    return {"compression": dense.params / pruned.params, "speedup": dense.flops / pruned.flops}
