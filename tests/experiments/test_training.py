"""Training under a mask: pruned weights never move, runs repeat exactly, evaluation and the
learning-rate schedule behave as documented."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from experiments.data import Dataset, Split
from experiments.masks import (dense_mask, layer_kinds, magnitude_prune, prunable_weights)
from experiments.training import EvalPoint, TrainResult, evaluate, lr_factor, state_snapshot, train

CFG = {"optimizer": "sgd", "lr": 0.05, "momentum": 0.9, "weight_decay": 1e-3, "batch_size": 16,
       "iterations": 30, "eval_every": 10}


def tiny_dataset(seed: int = 0) -> Dataset:
    """Linearly separable-ish 3-class data with 12 features."""
    gen = torch.Generator().manual_seed(seed)
    centers = torch.randn(3, 12, generator=gen) * 2

    def split(n: int) -> Split:
        y = torch.randint(0, 3, (n,), generator=gen)
        return Split(centers[y] + torch.randn(n, 12, generator=gen), y)

    return Dataset(name="toy", train=split(120), val=split(40), test=split(50), num_classes=3,
                   input_shape=(12,), augment=None)


def tiny_model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(12, 20), nn.ReLU(), nn.Linear(20, 3))


def half_mask(model: nn.Module):
    weights = {n: w.detach() for n, w in prunable_weights(model).items()}
    return magnitude_prune(weights, dense_mask(model), {"linear": 0.5, "output": 0.5},
                           "layerwise", layer_kinds(model))


@pytest.mark.parametrize("optimizer", [
    {"optimizer": "sgd", "momentum": 0.9, "weight_decay": 1e-2},
    {"optimizer": "adam", "weight_decay": 1e-2},
    {"optimizer": "adamw", "weight_decay": 1e-1},
])
def test_pruned_weights_stay_exactly_zero(optimizer):
    model = tiny_model()
    mask = half_mask(model)
    cfg = {**CFG, **optimizer}
    result = train(model, mask, tiny_dataset(), cfg, data_seed=3)
    for name, weight in prunable_weights(model).items():
        assert torch.count_nonzero(weight[~mask[name]]) == 0
        assert torch.count_nonzero(result.final_weights[name][~mask[name]]) == 0
        assert torch.count_nonzero(weight[mask[name]]) == int(mask[name].sum()), "kept ones train"
    assert result.history[-1].iteration == 30


def test_optimizer_state_of_pruned_weights_stays_zero():
    """Zeroed gradients keep momentum / Adam moments of pruned weights at zero, so nothing is
    waiting to push a pruned weight away from zero."""
    model = tiny_model()
    mask = half_mask(model)
    captured = {}
    original_step = torch.optim.Adam.step

    def spying_step(self, *args, **kwargs):
        out = original_step(self, *args, **kwargs)
        captured["state"] = self.state
        return out

    torch.optim.Adam.step = spying_step
    try:
        train(model, mask, tiny_dataset(), {**CFG, "optimizer": "adam"}, data_seed=3)
    finally:
        torch.optim.Adam.step = original_step
    weights = prunable_weights(model)
    for name, weight in weights.items():
        state = captured["state"][weight]
        assert torch.count_nonzero(state["exp_avg"][~mask[name]]) == 0
        assert torch.count_nonzero(state["exp_avg_sq"][~mask[name]]) == 0


def test_training_is_deterministic():
    runs = []
    for _ in range(2):
        model = tiny_model()
        runs.append(train(model, half_mask(model), tiny_dataset(), CFG, data_seed=7))
    assert runs[0].history == runs[1].history
    for name in runs[0].final_weights:
        assert torch.equal(runs[0].final_weights[name], runs[1].final_weights[name])
    other_order = train(tiny_model(), half_mask(tiny_model()), tiny_dataset(), CFG, data_seed=8)
    assert other_order.history != runs[0].history


def test_snapshot_is_the_weights_after_k_steps():
    model = tiny_model()
    long = train(model, dense_mask(model), tiny_dataset(), CFG, data_seed=1, snapshot_iteration=7)
    model = tiny_model()
    short = train(model, dense_mask(model), tiny_dataset(), {**CFG, "iterations": 7}, data_seed=1)
    for name, value in short.final_weights.items():
        assert torch.equal(long.snapshot[name], value)
    model = tiny_model()
    start = state_snapshot(model)
    at_zero = train(model, dense_mask(model), tiny_dataset(), CFG, data_seed=1, snapshot_iteration=0)
    assert all(torch.equal(at_zero.snapshot[n], start[n]) for n in start)


def test_early_stop_is_min_validation_loss():
    model = tiny_model()
    result = train(model, dense_mask(model), tiny_dataset(), {**CFG, "iterations": 45}, data_seed=2)
    assert [p.iteration for p in result.history] == [10, 20, 30, 40, 45]
    best = min(result.history, key=lambda p: p.val_loss)
    metrics = result.metrics()
    assert metrics["early_stop_iter"] == best.iteration
    assert metrics["test_acc"] == best.test_acc and metrics["val_acc"] == best.val_acc
    assert metrics["final_test_acc"] == result.history[-1].test_acc
    assert metrics["iterations"] == 45


def test_evaluate_counts_correct_predictions_in_eval_mode():
    class Fixed(nn.Module):
        def forward(self, x):  # predicts class 0 for x[:, 0] > 0 else class 1
            return torch.stack([x[:, 0], -x[:, 0]], dim=1)

    model = Fixed()
    model.train()
    split = Split(torch.tensor([[1.0], [-1.0], [2.0], [-3.0]]), torch.tensor([0, 0, 0, 1]))
    loss, acc = evaluate(model, split, batch_size=3)
    assert acc == 0.75
    expected = nn.functional.cross_entropy(model(split.x), split.y).item()
    assert loss == pytest.approx(expected)
    assert model.training, "evaluate restores the training mode"


def test_lr_schedule_warmup_and_milestones():
    cfg = {"warmup_iterations": 4, "lr_milestones": [10, 20], "lr_gamma": 0.5}
    assert [lr_factor(s, cfg) for s in range(5)] == [0.25, 0.5, 0.75, 1.0, 1.0]
    assert lr_factor(9, cfg) == 1.0 and lr_factor(10, cfg) == 0.5 and lr_factor(25, cfg) == 0.25
    assert lr_factor(0, {}) == 1.0


def test_cosine_schedule_decays_from_the_peak_to_zero_at_the_budget():
    cfg = {"lr_schedule": "cosine", "iterations": 100, "lr_milestones": [10]}
    assert lr_factor(0, cfg) == 1.0
    assert lr_factor(50, cfg) == pytest.approx(0.5)
    assert lr_factor(100, cfg) == pytest.approx(0.0)
    factors = [lr_factor(step, cfg) for step in range(100)]
    assert factors == sorted(factors, reverse=True)  # milestones play no part
    warm = dict(cfg, warmup_iterations=4)
    assert lr_factor(1, warm) == pytest.approx(0.5 * lr_factor(1, cfg))


def test_divergence_is_reported():
    model = tiny_model()
    with pytest.raises(FloatingPointError, match="diverged"):
        train(model, dense_mask(model), tiny_dataset(), {**CFG, "lr": 1e12}, data_seed=0)


def result_of(*points: tuple[int, float, float]) -> TrainResult:
    """A training result from (iteration, validation loss, test accuracy) evaluations."""
    return TrainResult(history=[EvalPoint(i, loss, 0.0, acc) for i, loss, acc in points],
                       final_weights={})


def test_late_gains_measure_what_the_last_tenth_of_the_budget_bought():
    # Lowest at step 100 of 100: the last tenth bought 0.1 of loss and 2 points of accuracy
    # against the best evaluation before step 90 (step 80, not the earlier, worse step 40).
    still_learning = result_of((40, 0.5, 0.8), (80, 0.3, 0.88), (100, 0.2, 0.9))
    assert still_learning.late_gains() == pytest.approx(
        {"late_val_loss_gain": 0.1, "late_test_acc_gain": 0.02})
    converged = result_of((40, 0.5, 0.8), (80, 0.2, 0.9), (100, 0.25, 0.91))
    assert converged.late_gains() == {"late_val_loss_gain": 0.0, "late_test_acc_gain": 0.0}
    # A run resumed at step 50 has 50 steps: its last tenth starts at step 95.
    resumed = TrainResult(history=[EvalPoint(90, 0.3, 0.0, 0.8), EvalPoint(100, 0.2, 0.0, 0.9)],
                          final_weights={}, start_iteration=50)
    assert resumed.late_gains()["late_val_loss_gain"] == pytest.approx(0.1)
