"""Pruning masks and magnitude/random pruning.

A ``Mask`` maps the name of every prunable weight (``"features.0.weight"``) to a bool tensor of
the weight's shape: True = kept. Prunable weights are the ``weight`` of every nn.Linear, nn.Conv1d
and nn.Conv2d; biases and batch-norm parameters are never pruned. The last nn.Linear in module
order is the output layer, which has its own pruning rate.

Counting rule: a pruning step with rate ``r`` removes exactly ``round_half_up(r * remaining)``
weights among those still kept, so masks only shrink (global scope can instead follow open_lth's
count, ``count="open_lth"``: see ``magnitude_prune``). Ranking is by absolute value; among equal
magnitudes the one at the lower flat index is pruned first (for global pruning, the one in the
earlier layer first), through a stable sort on CPU, which makes every mask deterministic.
"""

from __future__ import annotations

import math
from typing import Mapping

import torch
from torch import nn

Mask = dict[str, torch.Tensor]
PRUNABLE_MODULES = (nn.Linear, nn.Conv1d, nn.Conv2d)
KINDS = ("linear", "conv", "output")


def prunable_weights(model: nn.Module) -> dict[str, nn.Parameter]:
    """Name -> weight parameter of every prunable layer, in module order."""
    weights = {
        f"{name}.weight" if name else "weight": module.weight
        for name, module in model.named_modules()
        if isinstance(module, PRUNABLE_MODULES)
    }
    if not weights:
        raise ValueError(f"{type(model).__name__} has no prunable (Linear/Conv) layer")
    return weights


def output_layer_name(model: nn.Module) -> str:
    """Name of the output layer's weight: the last nn.Linear in module order."""
    linear = [f"{name}.weight" for name, module in model.named_modules()
              if isinstance(module, nn.Linear)]
    if not linear:
        raise ValueError(f"{type(model).__name__} has no nn.Linear output layer")
    return linear[-1]


def layer_kinds(model: nn.Module) -> dict[str, str]:
    """Name -> 'linear' | 'conv' | 'output' for every prunable weight."""
    output = output_layer_name(model)
    kinds = {}
    for name, weight in prunable_weights(model).items():
        kinds[name] = "output" if name == output else ("linear" if weight.dim() == 2 else "conv")
    return kinds


def dense_mask(model: nn.Module) -> Mask:
    """A mask keeping every prunable weight (CPU tensors)."""
    return {name: torch.ones_like(w, dtype=torch.bool, device="cpu")
            for name, w in prunable_weights(model).items()}


def kept_counts(mask: Mask) -> dict[str, int]:
    """Name -> number of kept weights."""
    return {name: int(m.sum()) for name, m in mask.items()}


def density(mask: Mask) -> float:
    """Fraction of all prunable weights that the mask keeps (1.0 = dense)."""
    total = sum(m.numel() for m in mask.values())
    return sum(kept_counts(mask).values()) / total


def apply_mask(model: nn.Module, mask: Mask) -> None:
    """Zero the pruned weights of ``model`` in place."""
    weights = prunable_weights(model)
    if set(weights) != set(mask):
        raise ValueError(f"mask layers {sorted(mask)} do not match model layers {sorted(weights)}")
    with torch.no_grad():
        for name, weight in weights.items():
            if mask[name].shape != weight.shape:
                raise ValueError(f"mask {name} has shape {tuple(mask[name].shape)}, "
                                 f"weight has {tuple(weight.shape)}")
            weight.mul_(mask[name].to(device=weight.device, dtype=weight.dtype))


def removal_count(rate: float, remaining: int) -> int:
    """Weights one step at ``rate`` removes from ``remaining``: round half up of the product."""
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"pruning rate must be in [0, 1), got {rate}")
    return min(remaining, math.floor(rate * remaining + 0.5))


def magnitude_prune(
    weights: Mapping[str, torch.Tensor],
    mask: Mask,
    rates: Mapping[str, float],
    scope: str,
    kinds: Mapping[str, str],
    *,
    count: str = "pool",
    output_in_pool: bool = False,
) -> Mask:
    """New mask removing the smallest-magnitude kept weights.

    ``rates`` holds per-kind rates (``linear``, ``conv``, ``output``) for ``scope="layerwise"``;
    for ``scope="global"`` it holds ``global`` (applied to the pool of all non-output layers, the
    output layer too with ``output_in_pool``) and optionally ``output`` (the output layer pruned
    on its own; left dense when absent). ``count`` (global only): ``pool`` removes
    round_half_up(rate * pooled remaining); ``open_lth`` removes what open_lth's sparse_global
    does, ceil(rate * remaining in all layers) + 1 (it prunes every weight at or below the n-th
    smallest magnitude, index n counted from 0).
    """
    remaining = kept_counts(mask)
    if scope == "layerwise":
        remove = {name: removal_count(_kind_rate(rates, kind, name), remaining[name])
                  for name, kind in kinds.items()}
        return prune_smallest(weights, mask, remove)
    if scope != "global":
        raise ValueError(f"unknown pruning scope {scope!r} (known: layerwise, global)")
    pooled, outputs = _pool(kinds, output_in_pool)
    pooled_rate = _kind_rate(rates, "global", "pool of pruned layers")
    pooled_remove = _global_count(pooled_rate, remaining, pooled, count)
    new_mask = prune_smallest_global(weights, mask, pooled, pooled_remove)
    output_remove = {n: removal_count(rates.get("output", 0.0), remaining[n]) for n in outputs}
    return prune_smallest(weights, new_mask, output_remove)


def _pool(kinds: Mapping[str, str], output_in_pool: bool) -> tuple[list[str], list[str]]:
    """(pooled layers, layers pruned on their own) of global pruning."""
    if output_in_pool:
        return list(kinds), []
    return ([n for n, kind in kinds.items() if kind != "output"],
            [n for n, kind in kinds.items() if kind == "output"])


def _global_count(rate: float, remaining: Mapping[str, int], pooled: list[str],
                  count: str) -> int:
    """Weights one global step removes from the pool (``magnitude_prune``'s ``count``)."""
    in_pool = sum(remaining[n] for n in pooled)
    if count == "pool":
        return removal_count(rate, in_pool)
    if count == "open_lth":
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"pruning rate must be in [0, 1), got {rate}")
        return min(in_pool, math.ceil(rate * sum(remaining.values())) + 1)
    raise ValueError(f"unknown global count {count!r} (known: pool, open_lth)")


def magnitude_prune_like(
    weights: Mapping[str, torch.Tensor],
    mask: Mask,
    like: Mask,
    scope: str,
    kinds: Mapping[str, str],
    *,
    output_in_pool: bool = False,
) -> Mask:
    """Prune ``mask`` by magnitude in one step down to the counts ``like`` keeps.

    layerwise: every layer keeps exactly as many weights as in ``like``. global: the pooled
    non-output layers (all layers, ``output_in_pool``) keep ``like``'s pooled total (spread by
    magnitude), the output layer otherwise its own count. This is one-shot pruning to the density an iterative run reached.
    """
    have, want = kept_counts(mask), kept_counts(like)
    if any(want[name] > have[name] for name in kinds):
        raise ValueError("target mask keeps more weights than the mask it should prune")
    if scope == "layerwise":
        return prune_smallest(weights, mask, {n: have[n] - want[n] for n in kinds})
    if scope != "global":
        raise ValueError(f"unknown pruning scope {scope!r} (known: layerwise, global)")
    pooled, alone = _pool(kinds, output_in_pool)
    outputs = {n: have[n] - want[n] for n in alone}
    remove = sum(have[n] - want[n] for n in pooled)
    return prune_smallest(weights, prune_smallest_global(weights, mask, pooled, remove), outputs)


def _kind_rate(rates: Mapping[str, float], kind: str, name: str) -> float:
    if kind not in rates:
        raise ValueError(f"{name}: needs a {kind!r} pruning rate, rates has {sorted(rates)}")
    return rates[kind]


def prune_smallest(
    weights: Mapping[str, torch.Tensor], mask: Mask, remove: Mapping[str, int]
) -> Mask:
    """Copy of ``mask`` with ``remove[name]`` more weights pruned in each named layer.

    Layers not in ``remove`` are copied unchanged.
    """
    new_mask = {name: m.clone() for name, m in mask.items()}
    for name, count in remove.items():
        _prune_positions(new_mask, [name], weights, count)
    return new_mask


def prune_smallest_global(
    weights: Mapping[str, torch.Tensor], mask: Mask, pooled: list[str], remove: int
) -> Mask:
    """Copy of ``mask`` with the ``remove`` smallest kept weights of the pooled layers pruned."""
    new_mask = {name: m.clone() for name, m in mask.items()}
    _prune_positions(new_mask, pooled, weights, remove)
    return new_mask


def _prune_positions(mask: Mask, names: list[str], weights: Mapping[str, torch.Tensor],
                     count: int) -> None:
    """Prune (in place) the ``count`` smallest kept weights pooled over ``names``."""
    if count == 0 or not names:
        return
    # scores: (total kept,) magnitudes of kept weights, layers concatenated in ``names`` order.
    alive = [mask[n].flatten().nonzero().squeeze(1) for n in names]
    scores = torch.cat([weights[n].detach().flatten().cpu().abs()[idx]
                        for n, idx in zip(names, alive)])
    if count > scores.numel():
        raise ValueError(f"cannot prune {count} weights from {scores.numel()} kept in {names}")
    # Stable sort: equal magnitudes are pruned in (layer, flat index) order, deterministically.
    chosen = torch.sort(scores, stable=True).indices[:count]
    _unset(mask, names, alive, chosen)


def _unset(mask: Mask, names: list[str], alive: list[torch.Tensor], chosen: torch.Tensor) -> None:
    """Set to False the entries ``chosen`` (indices into the concatenation of ``alive``)."""
    start = 0
    for name, idx in zip(names, alive):
        end = start + idx.numel()
        local = chosen[(chosen >= start) & (chosen < end)] - start
        flat = mask[name].view(-1)
        flat[idx[local]] = False
        start = end


def random_mask(like: Mask, generator: torch.Generator) -> Mask:
    """Random mask keeping, in every layer, exactly as many weights as ``like`` does."""
    return {name: random_layer(m.shape, int(m.sum()), generator) for name, m in like.items()}


def random_mask_global(like: Mask, generator: torch.Generator, pooled: list[str]) -> Mask:
    """Random mask keeping as many weights as ``like`` over the pooled layers together (spread
    uniformly among them) and exactly ``like``'s count in every other layer."""
    kept = sum(int(like[n].sum()) for n in pooled)
    sizes = [like[n].numel() for n in pooled]
    chosen = torch.randperm(sum(sizes), generator=generator)[:kept]
    flat = torch.zeros(sum(sizes), dtype=torch.bool)
    flat[chosen] = True
    new_mask = {name: part.view(like[name].shape).clone()
                for name, part in zip(pooled, torch.split(flat, sizes))}
    for name, m in like.items():
        if name not in new_mask:
            new_mask[name] = random_layer(m.shape, int(m.sum()), generator)
    return {name: new_mask[name] for name in like}


def random_layer(shape: torch.Size, kept: int, generator: torch.Generator) -> torch.Tensor:
    """A bool mask of ``shape`` keeping ``kept`` positions drawn uniformly at random."""
    numel = math.prod(shape)
    flat = torch.zeros(numel, dtype=torch.bool)
    flat[torch.randperm(numel, generator=generator)[:kept]] = True
    return flat.view(shape)
