"""Pruning at initialisation: each criterion against a hand computation on a tiny network, the
masks' exact counts, the sanity-check controls' masks, and seeded reproducibility of a trial."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from experiments.config import load_experiment_set
from experiments.masks import kept_counts
from experiments.pai import (global_top_mask, grasp_scores, hessian_gradient, shuffle_within_layers,
                             snip_scores, synflow_mask, synflow_scores, _linearise)
from experiments.trial import run_trial
from experiments.trial_state import TrialState

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tiny.yaml"
PAI = ("snip", "grasp", "synflow", "magnitude_init", "pai_random")
pytestmark = pytest.mark.usefixtures("one_thread")


def two_layer_net(bias: bool = True) -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4, bias=bias), nn.ReLU(), nn.Linear(4, 2, bias=bias)).double()


def batch() -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(1)
    return torch.randn(5, 3, generator=gen, dtype=torch.float64), torch.tensor([0, 1, 1, 0, 1])


def test_snip_scores_are_abs_gradient_times_weight_by_hand():
    net, (x, y) = two_layer_net(), batch()
    w1, b1, w2, b2 = (p.detach() for p in net.parameters())
    pre = x @ w1.T + b1                      # (5, 4)
    hidden = pre.clamp(min=0)
    probs = torch.softmax(hidden @ w2.T + b2, dim=1)
    delta = (probs - F.one_hot(y, 2)) / len(y)   # dL/dlogits of the mean cross-entropy, (5, 2)
    grad_w2 = delta.T @ hidden
    grad_w1 = ((delta @ w2) * (pre > 0)).T @ x
    scores = snip_scores(net, x, y)
    assert torch.allclose(scores["0.weight"], (grad_w1 * w1).abs())
    assert torch.allclose(scores["2.weight"], (grad_w2 * w2).abs())


def test_grasp_hessian_gradient_product_matches_finite_differences():
    net, (x, y) = two_layer_net(), batch()
    g, hg = hessian_gradient(net, x, y, temperature=2.0)
    weights = [net[0].weight, net[2].weight]
    names = ["0.weight", "2.weight"]

    def gradient_at(step: float) -> list[torch.Tensor]:
        with torch.no_grad():
            for w, n in zip(weights, names):
                w.add_(step * g[n])
        loss = F.cross_entropy(net(x) / 2.0, y)
        grads = torch.autograd.grad(loss, weights)
        with torch.no_grad():
            for w, n in zip(weights, names):
                w.sub_(step * g[n])
        return grads

    eps = 1e-5
    for n, plus, minus in zip(names, gradient_at(eps), gradient_at(-eps)):
        assert torch.allclose(hg[n], (plus - minus) / (2 * eps), rtol=1e-5, atol=1e-9)


def test_grasp_keeps_the_lowest_minus_w_hg_as_the_authors_code():
    net, (x, y) = two_layer_net(), batch()
    _, hg = hessian_gradient(net, x, y)
    removed_first = torch.cat([(-net[0].weight * hg["0.weight"]).flatten(),
                               (-net[2].weight * hg["2.weight"]).flatten()]).detach()
    mask = global_top_mask(grasp_scores(net, x, y), 10)
    kept = torch.cat([mask["0.weight"].flatten(), mask["2.weight"].flatten()])
    assert removed_first[kept].max() <= removed_first[~kept].min()


def test_synflow_scores_of_a_linear_chain_have_the_closed_form():
    net = two_layer_net(bias=False)
    with torch.no_grad():  # mixed signs, which linearisation must remove
        net[0].weight.copy_(torch.tensor([[1., -2., 3.], [-1., 0.5, 2.], [4., 1., -1.],
                                          [2., 2., 2.]]))
        net[2].weight.copy_(torch.tensor([[1., -1., 2., 0.5], [-3., 1., 1., 1.]]))
    a1, a2 = net[0].weight.detach().abs(), net[2].weight.detach().abs()
    _linearise(net)
    scores = synflow_scores(net, (3,))
    # R = 1' |W2| |W1| 1: dR/dW1[j,i] = sum_k |W2[k,j]|, dR/dW2[k,j] = sum_i |W1[j,i]|.
    assert torch.allclose(scores["0.weight"], a1 * a2.sum(dim=0)[:, None])
    assert torch.allclose(scores["2.weight"], a2 * a1.sum(dim=1)[None, :])


def test_one_shot_synflow_keeps_the_closed_form_top_scores():
    net = two_layer_net(bias=False)
    a1, a2 = net[0].weight.detach().abs(), net[2].weight.detach().abs()
    expected = global_top_mask({"0.weight": a1 * a2.sum(dim=0)[:, None],
                                "2.weight": a2 * a1.sum(dim=1)[None, :]}, 7)
    mask = synflow_mask(net, (3,), 7, iterations=1)
    assert all(torch.equal(mask[n], expected[n]) for n in expected)


def test_iterative_synflow_hits_the_count_and_keeps_every_unit_connected():
    net = two_layer_net(bias=False)
    mask = synflow_mask(net, (3,), 6, iterations=20)
    assert sum(kept_counts(mask).values()) == 6
    # Synaptic flow is conserved: no hidden unit keeps outgoing weights without incoming ones.
    has_in, has_out = mask["0.weight"].any(dim=1), mask["2.weight"].any(dim=0)
    assert torch.equal(has_in, has_out)


def test_global_top_mask_keeps_exactly_total_and_breaks_ties_in_order():
    scores = {"a": torch.tensor([[1.0, 3.0], [3.0, 0.0]]), "b": torch.tensor([3.0, 2.0])}
    mask = global_top_mask(scores, 3)
    assert mask["a"].tolist() == [[False, True], [True, False]]
    assert mask["b"].tolist() == [True, False]
    with pytest.raises(ValueError):
        global_top_mask(scores, 7)


def test_shuffling_keeps_each_layers_count_and_moves_weights():
    keep = torch.zeros(20, 30, dtype=torch.bool)
    keep[:5] = True
    mask = {"w": keep, "v": torch.tensor([True, False, True])}
    shuffled = shuffle_within_layers(mask, torch.Generator().manual_seed(0))
    assert kept_counts(shuffled) == kept_counts(mask)
    assert not torch.equal(shuffled["w"], keep)


@pytest.fixture(scope="module")
def trial(tmp_path_factory):
    cfg = load_experiment_set(FIXTURES)["tiny_pai"]
    out = tmp_path_factory.mktemp("pai")
    rows = run_trial("tiny_pai", cfg, 0, out, device=torch.device("cpu"), data_root=out,
                     log=lambda line: None)
    return cfg, out, rows, TrialState(out / "state")


def test_every_method_hits_the_schedules_count(trial):
    _, _, rows, state = trial
    imp_counts = {r: sum(kept_counts(state.load_mask("imp", r)).values()) for r in (1, 2)}
    for method in PAI:
        for r in (1, 2):
            assert sum(kept_counts(state.load_mask(method, r)).values()) == imp_counts[r], method
    assert {row["method"] for row in rows if row["round"] == 0} == {"imp"}


def test_controls_keep_the_methods_mask_or_its_per_layer_counts(trial):
    _, _, _, state = trial
    for r in (1, 2):
        chosen = state.load_mask("snip", r)
        assert all(torch.equal(state.load_mask("snip_reinit", r)[n], chosen[n]) for n in chosen)
        shuffled = state.load_mask("snip_shuffled", r)
        assert kept_counts(shuffled) == kept_counts(chosen)
        assert any(not torch.equal(shuffled[n], chosen[n]) for n in chosen)


def test_pai_masks_differ_from_imps_per_layer_counts(trial):
    """Global criteria give layers other densities than imp's layerwise schedule."""
    _, _, _, state = trial
    assert kept_counts(state.load_mask("snip", 2)) != kept_counts(state.load_mask("imp", 2))


def test_a_second_run_gives_the_same_masks_and_rows(trial, tmp_path):
    cfg, _, rows, state = trial
    again = run_trial("tiny_pai", cfg, 0, tmp_path, device=torch.device("cpu"),
                      data_root=tmp_path, log=lambda line: None)
    assert again == rows
    other = TrialState(tmp_path / "state")
    for method in PAI + ("snip_shuffled", "grasp_reinit"):
        first, second = state.load_mask(method, 2), other.load_mask(method, 2)
        assert all(torch.equal(first[n], second[n]) for n in first), method
