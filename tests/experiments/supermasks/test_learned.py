"""Learned supermasks: gradients reach the scores only; top-k keeps exactly k per layer."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from experiments.masks import prunable_weights
from experiments.supermasks.learned import SupermaskNet, topk_mask


def tiny_net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))


def make(style: str, keep=None, rescale=True) -> SupermaskNet:
    base = tiny_net()
    scores = {name: torch.randn(w.shape) for name, w in prunable_weights(base).items()}
    return SupermaskNet(base, style, scores, keep=keep, rescale=rescale)


def backward_once(net: SupermaskNet) -> None:
    x, y = torch.randn(5, 6), torch.tensor([0, 1, 2, 0, 1])
    F.cross_entropy(net(x), y).backward()


@pytest.mark.parametrize("style, keep", [("bernoulli", None), ("topk", {"0.weight": 10,
                                                                         "2.weight": 5})])
def test_straight_through_gradients_reach_scores_and_never_the_weights(style, keep):
    net = make(style, keep)
    frozen_before = {name: p.clone() for name, p in net.base.named_parameters()}
    backward_once(net)
    assert all(score.grad is not None and score.grad.abs().sum() > 0 for score in net.scores)
    assert all(not p.requires_grad and p.grad is None for p in net.base.parameters())
    torch.optim.SGD(net.parameters(), lr=1.0).step()
    for name, p in net.base.named_parameters():
        assert torch.equal(p, frozen_before[name])


def test_topk_keeps_exactly_k_per_layer_in_training_and_evaluation():
    keep = {"0.weight": 13, "2.weight": 4}
    net = make("topk", keep)
    assert {name: int(m.sum()) for name, m in net.layer_masks().items()} == keep
    assert {name: int(m.sum()) for name, m in net.final_mask().items()} == keep


def test_topk_mask_keeps_the_largest_scores():
    assert topk_mask(torch.tensor([0.3, -5.0, 0.9, 0.1]), 2).tolist() == [True, False, True, False]


def test_edge_popup_keeps_the_scores_largest_in_absolute_value_as_the_authors_code_does():
    base = nn.Sequential(nn.Linear(2, 2))
    scores = {"0.weight": torch.tensor([[0.3, -5.0], [0.9, 0.1]], requires_grad=True)}
    net = SupermaskNet(base, "topk", scores, keep={"0.weight": 2}, rescale=False)
    assert net.final_mask()["0.weight"].tolist() == [[False, True], [True, False]]
    net(torch.ones(1, 2)).sum().backward()
    # d out / d |s| is the weight times the input; through |s| a negative score gets its sign.
    expected = base[0].weight.detach() * torch.tensor([[1.0, -1.0], [1.0, 1.0]])
    assert torch.allclose(net.scores[0].grad, expected)


def test_bernoulli_evaluation_mask_is_the_sign_of_the_score():
    net = make("bernoulli")
    for (name, mask), score in zip(net.final_mask().items(), net.scores):
        assert torch.equal(mask, score.detach() > 0)


def test_rescaling_multiplies_kept_weights_by_size_over_kept():
    keep = {"0.weight": 12, "2.weight": 6}
    plain, scaled = make("topk", keep, rescale=False), make("topk", keep, rescale=True)
    x = torch.randn(4, 6)
    # Only the first layer's scale matters before the ReLU; compare its pre-activations.
    w_plain = plain.base[0].weight * plain.layer_masks()["0.weight"]
    w_scaled = scaled.base[0].weight * scaled.layer_masks()["0.weight"] * (48 / 12)
    assert torch.allclose(x @ w_scaled.T, 4 * (x @ w_plain.T))
    assert plain(x).shape == scaled(x).shape == (4, 3)


def test_topk_mask_is_the_head_of_a_stable_descending_sort_ties_included():
    rng = torch.Generator().manual_seed(0)
    for trial in range(200):
        score = torch.randint(-2, 3, (7, 5), generator=rng).float()  # many ties
        order = torch.sort(score.flatten(), descending=True, stable=True).indices
        for k in (0, 1, 17, 34, 35):
            expected = torch.zeros(35, dtype=torch.bool)
            expected[order[:k]] = True
            assert torch.equal(topk_mask(score, k), expected.view(7, 5)), (trial, k)
