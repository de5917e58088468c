"""Tests for the model registry: shapes, parameter counts against the papers, initialisation,
and the conventions the pruning code relies on."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from experiments.models import MODELS, ModelSpecError, build_model

CIFAR = (3, 32, 32)
MNIST = (1, 28, 28)
MNIST1D = (40,)
PRUNABLE = (nn.Linear, nn.Conv1d, nn.Conv2d)

# (model spec, input shape) pairs covering every registered model at least once.
CASES = [
    ({"name": "mlp"}, MNIST1D),
    ({"name": "mlp", "hidden": [7, 5]}, MNIST),
    ({"name": "lenet300_100"}, MNIST),
    ({"name": "conv2"}, CIFAR),
    ({"name": "conv4"}, CIFAR),
    ({"name": "conv6"}, CIFAR),
    ({"name": "conv4"}, MNIST1D),
    ({"name": "convnet", "stage_widths": [4, 8], "fc_hidden": [], "batch_norm": True}, MNIST1D),
    ({"name": "conv2"}, (2, 12)),
    ({"name": "vgg16"}, CIFAR),
    ({"name": "vgg19"}, (1, 16, 16)),
    ({"name": "resnet20"}, CIFAR),
    ({"name": "resnet20", "shortcut": "padding"}, (1, 8, 8)),
]


def parameter_count(model: nn.Module) -> int:
    return sum(parameter.numel() for parameter in model.parameters())


def test_every_registered_model_is_tested():
    assert {spec["name"] for spec, _ in CASES} == set(MODELS)


@pytest.mark.parametrize("spec, input_shape", CASES, ids=lambda case: str(case))
def test_forward_shape_and_conventions(spec, input_shape):
    torch.manual_seed(0)
    model = build_model(spec, input_shape, num_classes=7)
    logits = model(torch.randn(3, *input_shape))
    assert logits.shape == (3, 7) and torch.isfinite(logits).all()
    linears = [module for module in model.modules() if isinstance(module, nn.Linear)]
    assert linears[-1].out_features == 7  # the last Linear in module order is the output layer
    assert not any(parametrize.is_parametrized(module) for module in model.modules())
    prunable = [module for module in model.modules() if isinstance(module, PRUNABLE)]
    assert all(isinstance(module.weight, nn.Parameter) for module in prunable)


def test_mlp_hidden_widths_come_from_the_spec():
    model = build_model({"name": "mlp", "hidden": [7, 5]}, MNIST, 10)
    shapes = [tuple(m.weight.shape) for m in model.modules() if isinstance(m, nn.Linear)]
    assert shapes == [(7, 784), (5, 7), (10, 5)]
    default = build_model({"name": "mlp"}, MNIST1D, 10)
    assert [m.out_features for m in default.modules() if isinstance(m, nn.Linear)] == [100, 100, 10]


@pytest.mark.parametrize(
    "spec, input_shape, expected",
    [
        ({"name": "lenet300_100"}, MNIST, 266_610),  # Frankle & Carbin: 266K
        ({"name": "conv2"}, CIFAR, 4_301_642),  # paper: 4.3M
        ({"name": "conv4"}, CIFAR, 2_425_930),  # paper: 2.4M
        (
            {"name": "conv6"},
            CIFAR,
            2_262_602,
        ),  # paper's table says 1.7M; see experiments/models/conv.py
        ({"name": "vgg16"}, CIFAR, 14_724_042),  # Frankle et al. 2020: 14.7M
        ({"name": "vgg19"}, CIFAR, 20_035_018),  # Frankle et al. 2020: 20.0M
        ({"name": "resnet20"}, CIFAR, 272_474),  # He et al.: 0.27M
        ({"name": "resnet20", "shortcut": "padding"}, CIFAR, 269_722),
    ],
)
def test_parameter_counts_match_the_papers(spec, input_shape, expected):
    assert parameter_count(build_model(spec, input_shape, 10)) == expected


def test_resnet20_has_twenty_weighted_layers():
    model = build_model({"name": "resnet20", "shortcut": "padding"}, CIFAR, 10)
    assert len([m for m in model.modules() if isinstance(m, PRUNABLE)]) == 20  # 19 convs + 1 Linear


@pytest.mark.parametrize("name, input_shape", [("conv2", CIFAR), ("resnet20", CIFAR)])
def test_same_seed_same_weights_other_seed_other_weights(name, input_shape):
    def weights(seed: int) -> dict[str, torch.Tensor]:
        torch.manual_seed(seed)
        return build_model({"name": name}, input_shape, 10).state_dict()

    first, again, other = weights(5), weights(5), weights(6)
    assert all(torch.equal(first[key], again[key]) for key in first)
    assert not all(torch.equal(first[key], other[key]) for key in first)


def glorot_std(weight: torch.Tensor) -> float:
    receptive_field = math.prod(weight.shape[2:])
    return math.sqrt(2.0 / (weight.shape[0] * receptive_field + weight.shape[1] * receptive_field))


@pytest.mark.parametrize(
    "name, input_shape, expected_std",
    [
        ("lenet300_100", MNIST, glorot_std),
        ("conv2", CIFAR, glorot_std),
        ("vgg16", CIFAR, lambda w: math.sqrt(2.0 / math.prod(w.shape[1:]))),  # Kaiming, fan-in
        ("resnet20", CIFAR, lambda w: math.sqrt(2.0 / math.prod(w.shape[1:]))),
    ],
)
def test_initialisation_scale_and_zero_biases(name, input_shape, expected_std):
    torch.manual_seed(0)
    model = build_model({"name": name}, input_shape, 10)
    for module in model.modules():
        if (
            isinstance(module, PRUNABLE) and module.weight.numel() >= 4096
        ):  # enough draws to measure
            assert module.weight.std().item() == pytest.approx(expected_std(module.weight), rel=0.1)
        if isinstance(module, PRUNABLE) and module.bias is not None:
            assert torch.count_nonzero(module.bias) == 0
        if isinstance(module, nn.BatchNorm2d):
            assert torch.all(module.weight == 1) and torch.count_nonzero(module.bias) == 0


def test_resnet_shortcuts_differ_as_documented():
    projection = build_model({"name": "resnet20"}, CIFAR, 10)
    padding = build_model({"name": "resnet20", "shortcut": "padding"}, CIFAR, 10)
    one_by_one = [
        m for m in projection.modules() if isinstance(m, nn.Conv2d) and m.kernel_size == (1, 1)
    ]
    assert len(one_by_one) == 2  # entering stages 2 and 3
    assert not [
        m for m in padding.modules() if isinstance(m, nn.Conv2d) and m.kernel_size == (1, 1)
    ]


def test_gradients_reach_every_parameter():
    torch.manual_seed(0)
    model = build_model({"name": "resnet20", "shortcut": "padding"}, (3, 16, 16), 10)
    loss = nn.functional.cross_entropy(model(torch.randn(4, 3, 16, 16)), torch.tensor([0, 1, 2, 3]))
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


@pytest.mark.parametrize(
    "spec, input_shape, message",
    [
        ({"name": "alexnet"}, CIFAR, "alexnet.*known: conv2, conv4"),
        ({"name": "mlp", "hidden": [0]}, MNIST, "hidden"),
        ({"name": "resnet20", "shortcut": "B"}, CIFAR, "shortcut"),
        ({"name": "conv6"}, (3, 4, 4), "too small"),
        ({"name": "vgg16"}, MNIST1D, "image input"),
    ],
)
def test_bad_model_specs_are_value_errors(spec, input_shape, message):
    with pytest.raises(ModelSpecError, match=message) as caught:
        build_model(spec, input_shape, 10)
    assert isinstance(caught.value, ValueError) and "\n" not in str(caught.value)
