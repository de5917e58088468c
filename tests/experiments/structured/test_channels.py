"""Channel scores and selection on hand-made layers: each criterion ranks the channels it should,
the counts round as documented, ties go to the lower index, global selection never empties a
layer, and bad input gets a clear error."""

from __future__ import annotations

import pytest
import torch

from experiments.models import build_model
from experiments.structured import (StructureError, channel_scores, channel_structure,
                                    select_channels)

SMALL = {"name": "convnet", "stage_widths": [4], "fc_hidden": [], "batch_norm": True}


def small_model(batch_norm: bool = True):
    torch.manual_seed(0)
    return build_model({**SMALL, "batch_norm": batch_norm}, (8,), 3)


def test_structure_of_a_convnet_and_a_vgg():
    structure = channel_structure(small_model())
    assert [(layer.conv, layer.norm, layer.channels) for layer in structure.layers] == [
        ("layers.0", "layers.1", 4), ("layers.3", "layers.4", 4)]
    assert (structure.linear, structure.positions) == ("layers.8", 4)  # 8 -> pooled to 4
    vgg = channel_structure(build_model({"name": "vgg16"}, (3, 16, 16), 10))
    assert len(vgg.layers) == 13 and vgg.positions == 1 and vgg.linear == "classifier"
    assert all(layer.norm is not None for layer in vgg.layers)


def test_resnet_and_mlp_are_refused():
    with pytest.raises(StructureError, match="residual"):
        channel_structure(build_model({"name": "resnet20"}, (3, 8, 8), 10))
    with pytest.raises(StructureError, match="not MLP"):
        channel_structure(build_model({"name": "mlp", "hidden": [5]}, (8,), 3))


def test_l1_scores_are_the_filters_l1_norms():
    model = small_model()
    conv = model.layers[0]  # weight (4, 1, 3)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([[[1.0, -1.0, 0.0]], [[0.0, 0.5, 0.0]],
                                        [[-3.0, 0.0, 0.0]], [[0.1, 0.1, -0.1]]]))
    scores = channel_scores(model, "l1")["layers.0"]
    assert torch.allclose(scores, torch.tensor([2.0, 0.5, 3.0, 0.3]))
    keep = select_channels({"layers.0": scores}, 0.5, "layerwise")["layers.0"]
    assert keep.tolist() == [True, False, True, False]  # the two smallest norms go


def test_bn_scale_uses_the_absolute_scale():
    model = small_model()
    with torch.no_grad():
        model.layers[1].weight.copy_(torch.tensor([-2.0, 0.1, 0.5, -0.05]))
    scores = channel_scores(model, "bn_scale")["layers.0"]
    assert scores.tolist() == pytest.approx([2.0, 0.1, 0.5, 0.05])
    keep = select_channels({"layers.0": scores}, 0.25, "layerwise")["layers.0"]
    assert keep.tolist() == [True, True, True, False]


def test_bn_scale_needs_batch_norm_and_unknown_criteria_are_named():
    with pytest.raises(StructureError, match="batch_norm: true"):
        channel_scores(small_model(batch_norm=False), "bn_scale")
    with pytest.raises(ValueError, match="unknown channel criterion 'l2'.*known: l1, bn_scale"):
        channel_scores(small_model(), "l2")


def test_layerwise_counts_round_half_up_and_keep_one_channel():
    scores = {"a": torch.arange(10.0), "b": torch.arange(3.0)}
    keep = select_channels(scores, 0.25, "layerwise")  # 2.5 -> 3 of 10, 0.75 -> 1 of 3
    assert keep["a"].tolist() == [False] * 3 + [True] * 7
    assert keep["b"].tolist() == [False, True, True]
    nearly_all = select_channels({"a": torch.ones(2)}, 0.9, "layerwise")  # 1.8 -> 2, capped at 1
    assert nearly_all["a"].tolist() == [False, True]


def test_ties_remove_the_lower_index_first():
    keep = select_channels({"a": torch.tensor([1.0, 1.0, 1.0, 1.0])}, 0.5, "layerwise")
    assert keep["a"].tolist() == [False, False, True, True]
    pooled = select_channels({"a": torch.ones(2), "b": torch.ones(2)}, 0.25, "global")
    assert pooled["a"].tolist() == [False, True] and pooled["b"].tolist() == [True, True]


def test_global_selection_pools_the_layers():
    scores = {"a": torch.tensor([0.1, 5.0, 0.2]), "b": torch.tensor([3.0, 0.15, 4.0, 0.3])}
    keep = select_channels(scores, 3 / 7, "global")  # the 3 smallest of all 7 scores
    assert keep["a"].tolist() == [False, True, False]
    assert keep["b"].tolist() == [True, False, True, True]


def test_global_selection_never_empties_a_layer():
    # Every score of layer "a" is below every score of layer "b".
    scores = {"a": torch.tensor([0.01, 0.02, 0.03]), "b": torch.tensor([1.0, 2.0, 3.0, 4.0])}
    keep = select_channels(scores, 0.5, "global")  # 3.5 -> 4 of 7 removed
    assert keep["a"].tolist() == [False, False, True]  # its best survives
    assert keep["b"].tolist() == [False, False, True, True]
    most = select_channels(scores, 0.99, "global")
    assert [int(flags.sum()) for flags in most.values()] == [1, 1]


@pytest.mark.parametrize("ratio", [0, 1, 1.5, -0.1, True, "0.5"])
def test_bad_ratios_get_a_clear_error(ratio):
    with pytest.raises(ValueError, match=r"channel ratio .* must be in \(0, 1\)"):
        select_channels({"a": torch.ones(3)}, ratio, "layerwise")


def test_unknown_scope_is_named():
    with pytest.raises(ValueError, match="unknown channel selection scope 'local'"):
        select_channels({"a": torch.ones(3)}, 0.5, "local")
