"""Mask criteria of Zhou et al. (2019): which weights to keep, from their initial value w_i and
their value after training w_f.

Every criterion maps (w_i, w_f) of one layer to a score per weight; a mask keeps the weights of
highest score, a given number per layer. Adding a criterion is one function and one line in
``CRITERIA``. ``large_init_large_final`` compares |w_i| and |w_f| on one scale by multiplying
|w_i| by alpha = std(w_f) / std(w_i) of the layer, so that neither magnitude dominates the min.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch

from experiments.masks import Mask

Criterion = Callable[[torch.Tensor, torch.Tensor, torch.Generator], torch.Tensor]


def large_final(w_i: torch.Tensor, w_f: torch.Tensor, _: torch.Generator) -> torch.Tensor:
    return w_f.abs()


def small_final(w_i: torch.Tensor, w_f: torch.Tensor, _: torch.Generator) -> torch.Tensor:
    return -w_f.abs()


def large_init(w_i: torch.Tensor, w_f: torch.Tensor, _: torch.Generator) -> torch.Tensor:
    return w_i.abs()


def large_init_large_final(w_i: torch.Tensor, w_f: torch.Tensor, _: torch.Generator) -> torch.Tensor:
    alpha = w_f.std() / w_i.std().clamp_min(torch.finfo(w_i.dtype).tiny)
    return torch.minimum(alpha * w_i.abs(), w_f.abs())


def magnitude_increase(w_i: torch.Tensor, w_f: torch.Tensor, _: torch.Generator) -> torch.Tensor:
    return w_f.abs() - w_i.abs()


def movement(w_i: torch.Tensor, w_f: torch.Tensor, _: torch.Generator) -> torch.Tensor:
    return (w_f - w_i).abs()


def random(w_i: torch.Tensor, w_f: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    return torch.rand(w_i.shape, generator=generator)


CRITERIA: dict[str, Criterion] = {
    "large_final": large_final,  # what lottery tickets keep
    "small_final": small_final,
    "large_init": large_init,
    "large_init_large_final": large_init_large_final,
    "magnitude_increase": magnitude_increase,
    "movement": movement,
    "random": random,  # the control
}


def keep_highest(scores: torch.Tensor, count: int) -> torch.Tensor:
    """Bool mask of ``scores``'s shape keeping the ``count`` highest; ties keep the lower index."""
    if not 0 <= count <= scores.numel():
        raise ValueError(f"cannot keep {count} of {scores.numel()} weights")
    # Stable descending sort: among equal scores the lower flat index comes first.
    order = torch.sort(scores.flatten(), descending=True, stable=True).indices
    keep = torch.zeros(scores.numel(), dtype=torch.bool)
    keep[order[:count]] = True
    return keep.view(scores.shape)


def criterion_mask(criterion: str, initial: Mapping[str, torch.Tensor],
                   final: Mapping[str, torch.Tensor], counts: Mapping[str, int],
                   generator: torch.Generator) -> Mask:
    """Per layer, the ``counts[name]`` weights that ``criterion`` scores highest."""
    if criterion not in CRITERIA:
        raise ValueError(f"unknown mask criterion {criterion!r}; known: {', '.join(CRITERIA)}")
    score = CRITERIA[criterion]
    return {name: keep_highest(score(initial[name].float().cpu(), final[name].float().cpu(),
                                     generator), count)
            for name, count in counts.items()}
