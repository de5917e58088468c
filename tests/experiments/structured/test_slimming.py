"""Network slimming's penalty: the grad hook adds exactly lambda * sign(gamma) to every batch-norm
scale's gradient and nothing else, training calls it after backward and before the step, and
refuses a model without batch norm."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from experiments.masks import dense_mask
from experiments.models import build_model
from experiments.structured import batch_norm_scales, penalty_hook
from experiments.training import train

from ..test_training import CFG, tiny_dataset

SPEC = {"name": "convnet", "stage_widths": [3, 4], "fc_hidden": [5], "batch_norm": True}


def bn_model():
    torch.manual_seed(0)
    model = build_model(SPEC, (12,), 3)
    with torch.no_grad():
        for scale in batch_norm_scales(model):
            scale.copy_(torch.linspace(-1.0, 1.0, scale.numel()))  # signs -, 0 (odd sizes), +
    return model


def gradients(model) -> dict:
    model.zero_grad()
    data = tiny_dataset()
    F.cross_entropy(model(data.train.x[:16]), data.train.y[:16]).backward()
    return {name: param.grad.clone() for name, param in model.named_parameters()}


def test_hook_adds_lambda_times_sign_of_gamma_and_nothing_else():
    model = bn_model()
    plain = gradients(model)
    gradients(model)
    penalty_hook(model, 0.3)(model)
    scales = {id(scale) for scale in batch_norm_scales(model)}
    assert len(scales) == 4
    for name, param in model.named_parameters():
        expected = plain[name] + 0.3 * torch.sign(param.detach()) if id(param) in scales \
            else plain[name]
        torch.testing.assert_close(param.grad, expected, rtol=0, atol=1e-7)
    # linspace(-1, 1, 3) has an exact 0 in the middle: sign(0) = 0, so that scale got no push.
    assert batch_norm_scales(model)[0][1] == 0


def test_training_calls_the_hook_after_backward_and_before_the_step():
    model = bn_model()
    seen = []

    def hook(trained):
        scale = batch_norm_scales(trained)[0]
        seen.append((scale.grad is not None, scale.detach().clone()))

    cfg = {**CFG, "iterations": 3, "eval_every": 3}
    train(model, dense_mask(model), tiny_dataset(), cfg, data_seed=0, grad_hook=hook)
    assert len(seen) == 3 and all(has_grad for has_grad, _ in seen)
    assert not torch.equal(seen[0][1], seen[1][1]), "a step happened between two calls"


def test_penalty_shrinks_the_scales():
    cfg = {**CFG, "optimizer": "sgd", "momentum": 0.0, "weight_decay": 0.0, "iterations": 20}
    sizes = []
    for penalty in (0.0, 0.5):
        model = bn_model()
        train(model, dense_mask(model), tiny_dataset(), cfg, data_seed=0,
              grad_hook=penalty_hook(model, penalty))
        sizes.append(sum(float(scale.detach().abs().sum()) for scale in batch_norm_scales(model)))
    assert sizes[1] < sizes[0] - 1.0


def test_bad_penalty_or_model_is_refused():
    with pytest.raises(ValueError, match="no batch norm.*batch_norm: true"):
        penalty_hook(build_model({**SPEC, "batch_norm": False}, (12,), 3), 1e-4)
    with pytest.raises(ValueError, match="penalty must be a number >= 0"):
        penalty_hook(bn_model(), -1.0)
