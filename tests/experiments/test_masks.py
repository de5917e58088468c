"""Masks: exact counts, magnitude order, shrinking, and the random controls."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from experiments.masks import (apply_mask, dense_mask, density, kept_counts, layer_kinds,
                               magnitude_prune, magnitude_prune_like, output_layer_name,
                               prunable_weights, random_mask, random_mask_global, removal_count)

LAYERWISE = {"linear": 0.2, "conv": 0.15, "output": 0.1}


def small_net() -> nn.Module:
    """Conv (12 weights) + batch norm + linear (408) + output (85): every layer a different size."""
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv1d(1, 4, kernel_size=3), nn.BatchNorm1d(4), nn.ReLU(), nn.Flatten(),
        nn.Linear(4 * 6, 17), nn.ReLU(), nn.Linear(17, 5))


def weights_of(model: nn.Module) -> dict[str, torch.Tensor]:
    return {name: w.detach().clone() for name, w in prunable_weights(model).items()}


def test_prunable_layers_and_kinds():
    model = small_net()
    assert list(prunable_weights(model)) == ["0.weight", "4.weight", "6.weight"]
    assert output_layer_name(model) == "6.weight"
    assert layer_kinds(model) == {"0.weight": "conv", "4.weight": "linear", "6.weight": "output"}
    # Biases and batch norm are never in a mask.
    assert set(dense_mask(model)) == {"0.weight", "4.weight", "6.weight"}
    assert density(dense_mask(model)) == 1.0


def test_removal_count_rounds_half_up():
    assert removal_count(0.2, 12) == 2  # 2.4
    assert removal_count(0.25, 10) == 3  # 2.5 rounds up
    assert removal_count(0.1, 4) == 0
    with pytest.raises(ValueError):
        removal_count(1.0, 10)


def test_layerwise_removes_exact_count_of_smallest_kept_weights():
    model = small_net()
    weights, kinds = weights_of(model), layer_kinds(model)
    mask = dense_mask(model)
    for _ in range(6):
        before = kept_counts(mask)
        new = magnitude_prune(weights, mask, LAYERWISE, "layerwise", kinds)
        for name, kind in kinds.items():
            removed = mask[name] & ~new[name]
            assert int(removed.sum()) == removal_count(LAYERWISE[kind], before[name])
            assert not (new[name] & ~mask[name]).any(), "masks only shrink"
            # Every removed weight is no larger than every surviving weight of its layer.
            if removed.any() and new[name].any():
                assert weights[name][removed].abs().max() <= weights[name][new[name]].abs().min()
        mask = new
    assert density(mask) < 0.5


def test_global_pools_all_but_output():
    model = small_net()
    weights, kinds = weights_of(model), layer_kinds(model)
    mask = dense_mask(model)
    pooled = ["0.weight", "4.weight"]
    for _ in range(4):
        before = kept_counts(mask)
        new = magnitude_prune(weights, mask, {"global": 0.3}, "global", kinds)
        removed_total = sum(before[n] - int(new[n].sum()) for n in pooled)
        assert removed_total == removal_count(0.3, sum(before[n] for n in pooled))
        assert torch.equal(new["6.weight"], mask["6.weight"]), "output layer excluded"
        removed = torch.cat([weights[n][mask[n] & ~new[n]].abs() for n in pooled])
        kept = torch.cat([weights[n][new[n]].abs() for n in pooled])
        assert removed.max() <= kept.min()
        mask = new
    with_output = magnitude_prune(weights, mask, {"global": 0.3, "output": 0.1}, "global", kinds)
    assert kept_counts(with_output)["6.weight"] == 85 - removal_count(0.1, 85)


def test_ties_are_broken_by_position():
    weights = {"a": torch.ones(2, 5), "b": torch.ones(10)}
    mask = {"a": torch.ones(2, 5, dtype=torch.bool), "b": torch.ones(10, dtype=torch.bool)}
    kinds = {"a": "linear", "b": "output"}
    new = magnitude_prune(weights, mask, {"linear": 0.3, "output": 0.5}, "layerwise", kinds)
    assert new["a"].flatten().tolist() == [False] * 3 + [True] * 7
    assert new["b"].tolist() == [False] * 5 + [True] * 5
    pooled = magnitude_prune(weights, mask, {"global": 0.3}, "global", {"a": "linear", "b": "linear"})
    assert not pooled["a"].flatten()[:6].any() and pooled["a"].flatten()[6:].all()
    assert pooled["b"].all()


def test_missing_rate_for_a_layer_kind_is_an_error():
    model = small_net()
    with pytest.raises(ValueError, match="0.weight: needs a 'conv' pruning rate"):
        magnitude_prune(weights_of(model), dense_mask(model), {"linear": 0.2, "output": 0.1},
                        "layerwise", layer_kinds(model))


def test_random_mask_keeps_per_layer_counts():
    model = small_net()
    ticket = dense_mask(model)
    for _ in range(3):
        ticket = magnitude_prune(weights_of(model), ticket, LAYERWISE, "layerwise", layer_kinds(model))
    first = random_mask(ticket, torch.Generator().manual_seed(1))
    again = random_mask(ticket, torch.Generator().manual_seed(1))
    other = random_mask(ticket, torch.Generator().manual_seed(2))
    assert kept_counts(first) == kept_counts(ticket)
    assert all(torch.equal(first[n], again[n]) for n in first)
    assert any(not torch.equal(first[n], other[n]) for n in first)
    assert any(not torch.equal(first[n], ticket[n]) for n in first)


def test_random_mask_global_keeps_pooled_total():
    model = small_net()
    kinds = layer_kinds(model)
    ticket = magnitude_prune(weights_of(model), dense_mask(model), {"global": 0.6, "output": 0.2},
                             "global", kinds)
    pooled = ["0.weight", "4.weight"]
    shuffled = random_mask_global(ticket, torch.Generator().manual_seed(0), pooled)
    counts, wanted = kept_counts(shuffled), kept_counts(ticket)
    assert sum(counts[n] for n in pooled) == sum(wanted[n] for n in pooled)
    assert counts["6.weight"] == wanted["6.weight"]
    assert density(shuffled) == density(ticket)


@pytest.mark.parametrize("scope, rates", [("layerwise", LAYERWISE),
                                          ("global", {"global": 0.2, "output": 0.1})])
def test_prune_like_reaches_the_iterative_counts_in_one_step(scope, rates):
    model = small_net()
    weights, kinds = weights_of(model), layer_kinds(model)
    iterative = dense_mask(model)
    for _ in range(5):
        iterative = magnitude_prune(weights, iterative, rates, scope, kinds)
    oneshot = magnitude_prune_like(weights, dense_mask(model), iterative, scope, kinds)
    assert density(oneshot) == density(iterative)
    if scope == "layerwise":
        assert kept_counts(oneshot) == kept_counts(iterative)
    assert kept_counts(oneshot)["6.weight"] == kept_counts(iterative)["6.weight"]


def test_apply_mask_zeroes_pruned_weights_only():
    model = small_net()
    mask = magnitude_prune(weights_of(model), dense_mask(model), LAYERWISE, "layerwise",
                           layer_kinds(model))
    bias_before = model[4].bias.detach().clone()
    apply_mask(model, mask)
    for name, weight in prunable_weights(model).items():
        assert (weight[~mask[name]] == 0).all()
        assert (weight[mask[name]] != 0).all()
    assert torch.equal(model[4].bias, bias_before)
    with pytest.raises(ValueError, match="do not match"):
        apply_mask(model, {"0.weight": mask["0.weight"]})


def _open_lth_reference(weights, mask, rate, ignored):
    """open_lth's sparse_global, restated from its description: n = ceil(rate * all kept weights),
    threshold = the n-th smallest kept magnitude (from 0) of the non-ignored layers, and every
    kept weight at or below it pruned."""
    import math as _math
    import numpy as np
    n = _math.ceil(rate * sum(int(m.sum()) for m in mask.values()))
    pool = [name for name in weights if name not in ignored]
    vector = np.concatenate([weights[k].abs().numpy()[mask[k].numpy()] for k in pool])
    threshold = np.sort(vector)[n]
    return {k: (mask[k] & (weights[k].abs() > threshold)) if k in pool else mask[k].clone()
            for k in weights}


@pytest.mark.parametrize("output_in_pool", [False, True])
def test_open_lth_global_count_matches_its_threshold_rule(output_in_pool):
    gen = torch.Generator().manual_seed(4)
    weights = {"a.weight": torch.randn(30, 12, generator=gen),
               "b.weight": torch.randn(20, 30, generator=gen),
               "out.weight": torch.randn(5, 20, generator=gen)}
    kinds = {"a.weight": "linear", "b.weight": "linear", "out.weight": "output"}
    mask = {k: torch.ones_like(w, dtype=torch.bool) for k, w in weights.items()}
    ignored = set() if output_in_pool else {"out.weight"}
    for _ in range(3):  # a few rounds, so the count is taken of a mask already pruned
        ours = magnitude_prune(weights, mask, {"global": 0.2}, "global", kinds,
                               count="open_lth", output_in_pool=output_in_pool)
        expected = _open_lth_reference(weights, mask, 0.2, ignored)
        for name in weights:
            assert torch.equal(ours[name], expected[name]), name
        mask = ours
    pooled = magnitude_prune(weights, mask, {"global": 0.2}, "global", kinds)
    assert sum(kept_counts(pooled).values()) != sum(kept_counts(
        magnitude_prune(weights, mask, {"global": 0.2}, "global", kinds, count="open_lth"))
        .values()), "the two counts differ"
