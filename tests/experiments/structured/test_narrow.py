"""The narrowed network computes exactly what the dense one computes once the removed channels
are silenced (filters, biases, batch-norm scales and shifts zeroed), for 1-D and 2-D ConvNets with
and without batch norm and for VGG, in eval and in train mode; and its weights are those the
channel mask keeps."""

from __future__ import annotations

import copy

import pytest
import torch

from experiments.masks import kept_counts, prunable_weights
from experiments.models import build_model
from experiments.models.conv import BATCH_NORMS
from experiments.structured import (channel_mask, channel_structure, fresh_init, narrow)

CASES = [
    ({"name": "convnet", "stage_widths": [4, 6], "fc_hidden": [5], "batch_norm": False}, (12,)),
    ({"name": "convnet", "stage_widths": [4, 6], "fc_hidden": [5], "batch_norm": True}, (2, 12)),
    ({"name": "convnet", "stage_widths": [3], "fc_hidden": [], "batch_norm": True}, (8,)),
    ({"name": "conv2", "batch_norm": False}, (3, 6, 6)),
    ({"name": "conv4", "batch_norm": True}, (2, 8, 8)),
    ({"name": "vgg16"}, (3, 16, 16)),
]


def random_model(spec: dict, input_shape: tuple) -> torch.nn.Module:
    """A float64 model whose biases, batch-norm parameters and statistics are all non-trivial."""
    torch.manual_seed(1)
    model = build_model(spec, input_shape, 4).double()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, BATCH_NORMS):
                module.weight.uniform_(0.5, 1.5)
                module.bias.normal_()
                module.running_mean.normal_()
                module.running_var.uniform_(0.5, 2.0)
            elif getattr(module, "bias", None) is not None:
                module.bias.normal_()
    return model


def random_keep(model: torch.nn.Module) -> dict:
    gen = torch.Generator().manual_seed(2)
    keep = {}
    for layer in channel_structure(model).layers:
        flags = torch.rand(layer.channels, generator=gen) < 0.5
        flags[torch.randint(layer.channels, (1,), generator=gen)] = True  # never empty
        keep[layer.conv] = flags
    return keep


def silenced(model: torch.nn.Module, keep: dict) -> torch.nn.Module:
    """A copy of the dense model whose removed channels output exactly zero."""
    quiet = copy.deepcopy(model)
    with torch.no_grad():
        for layer in channel_structure(quiet).layers:
            removed = ~keep[layer.conv]
            conv = quiet.get_submodule(layer.conv)
            conv.weight[removed] = 0
            if conv.bias is not None:
                conv.bias[removed] = 0
            if layer.norm is not None:
                norm = quiet.get_submodule(layer.norm)
                norm.weight[removed] = 0
                norm.bias[removed] = 0
    return quiet


@pytest.mark.parametrize("spec, input_shape", CASES, ids=lambda case: str(case))
@pytest.mark.parametrize("mode", ["eval", "train"])
def test_narrow_computes_what_the_silenced_dense_model_computes(spec, input_shape, mode):
    model = random_model(spec, input_shape)
    keep = random_keep(model)
    small, quiet = narrow(model, keep), silenced(model, keep)
    small.train(mode == "train")
    quiet.train(mode == "train")
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(5, *input_shape, dtype=torch.float64, generator=gen)
    torch.testing.assert_close(small(x), quiet(x), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("spec, input_shape", CASES[:5], ids=lambda case: str(case))
def test_narrow_has_the_kept_channels_and_the_masks_weights(spec, input_shape):
    model = random_model(spec, input_shape)
    keep = random_keep(model)
    before = {name: value.clone() for name, value in model.state_dict().items()}
    small = narrow(model, keep)
    for layer in channel_structure(model).layers:
        assert small.get_submodule(layer.conv).out_channels == int(keep[layer.conv].sum())
        if layer.norm is not None:
            assert small.get_submodule(layer.norm).num_features == int(keep[layer.conv].sum())
    mask = channel_mask(model, keep)
    assert kept_counts(mask) == {name: weight.numel()
                                 for name, weight in prunable_weights(small).items()}
    # The narrow weights are exactly the dense weights the mask keeps, in order.
    for name, weight in prunable_weights(small).items():
        assert torch.equal(weight.detach().flatten(), before[name][mask[name]])
    assert all(torch.equal(before[name], value) for name, value in model.state_dict().items())


def test_fresh_init_gives_new_weights_and_statistics():
    model = random_model(CASES[1][0], CASES[1][1])
    small = narrow(model, random_keep(model))
    torch.manual_seed(5)
    fresh_init(small)
    norm = small.layers[1]
    assert torch.equal(norm.weight, torch.ones_like(norm.weight))
    assert torch.equal(norm.running_mean, torch.zeros_like(norm.running_mean))
    copied = narrow(model, random_keep(model))
    assert not torch.equal(small.layers[0].weight, copied.layers[0].weight)


def test_bad_keep_is_refused():
    model = random_model(CASES[0][0], CASES[0][1])
    keep = random_keep(model)
    keep["layers.0"] = torch.zeros_like(keep["layers.0"])
    with pytest.raises(ValueError, match="removes every channel"):
        narrow(model, keep)
    with pytest.raises(ValueError, match="keep names"):
        channel_mask(model, {"layers.0": keep["layers.0"]})
