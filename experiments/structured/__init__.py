"""Structured (channel) pruning: score the channels of a convolutional chain, choose which to
remove, and build the physically narrower network (Li et al. 2017; Liu et al. 2017, 2019).

- `channels`: the channel layers of a model, the ``l1`` and ``bn_scale`` scores, layerwise and
  global selection.
- `narrow`: the narrower model with the kept channels' weights, the equivalent mask in the dense
  model's shapes, and re-initialisation of a narrow model.
- `slimming`: network slimming's L1 penalty on batch-norm scales, as a training grad hook.

The pruning methods built on these are in experiments/methods/structured.py.
"""

from experiments.structured.channels import (CRITERIA, ChannelLayer, ChannelStructure, Keep,
                                             StructureError, channel_scores, channel_structure,
                                             select_channels)
from experiments.structured.narrow import channel_mask, fresh_init, narrow
from experiments.structured.slimming import batch_norm_scales, penalty_hook

__all__ = [
    "CRITERIA",
    "ChannelLayer",
    "ChannelStructure",
    "Keep",
    "StructureError",
    "batch_norm_scales",
    "channel_mask",
    "channel_scores",
    "channel_structure",
    "fresh_init",
    "narrow",
    "penalty_hook",
    "select_channels",
]
