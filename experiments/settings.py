"""Typed settings of one experiment, built from its validated config (experiments/config.py).

Methods read these instead of the raw config: a typo in a key is an AttributeError where the
method is written, not a KeyError hours into a run. The defaults come from the schema, which
``load_experiment_set`` has already filled in, so none is repeated here. The settings hashes
stay those of the config mappings (experiments/config.py), so nothing here changes a result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping


@dataclass(frozen=True)
class PruningSettings:
    scope: str  # layerwise | global
    rates: Mapping[str, float]  # by layer kind (or global); empty for channel pruning
    rounds: int  # pruning rounds after the dense round 0
    channel_ratios: tuple[float, ...]  # fraction of channels removed at rounds 1..rounds
    global_count: str = "pool"  # pool | open_lth (experiments/masks.py magnitude_prune)
    output_in_pool: bool = False  # global scope: the output layer pruned in the pool


@dataclass(frozen=True)
class SupermaskSettings:
    rescale: bool  # dynamic weight rescaling of masks on untrained weights
    lr: float  # learning rate of learned mask scores
    iterations: int | None  # steps of learned mask scores (None: training.iterations)
    # The score search's optimizer settings where they differ from training's (None: training's):
    # optimizer, momentum, weight_decay, lr_schedule (constant | cosine).
    search: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    # bernoulli_supermask's own overrides of lr, momentum, weight_decay, lr_schedule, iterations.
    bernoulli: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class StructuredSettings:
    finetune_iterations: int
    finetune_lr: float
    slimming_penalty: float
    scratch_b_max_factor: float


@dataclass(frozen=True)
class EarlyBirdSettings:
    check_every: int  # steps between the masks drawn during dense training
    queue: int  # masks kept in the FIFO (the newest and the ones it is compared with)
    threshold: float  # the draw: no distance in the FIFO above this


@dataclass(frozen=True)
class RigLSettings:
    update_every: int  # Delta T: steps between mask updates
    drop_fraction: float  # alpha: the fraction dropped at the first update
    end_fraction: float  # T_end as a fraction of training.iterations


@dataclass(frozen=True)
class CompressionSettings:
    """The deep-compression and error-bounded methods (experiments/compression/)."""

    bits: tuple[int, ...]  # k-means weight-sharing widths
    index_bits: int  # width of a relative-index gap field
    retrain_iterations: int  # steps of retraining after magnitude pruning (Han et al.)
    retrain_lr: float
    finetune_iterations: int  # steps of the centroid fine-tune
    finetune_lr: float
    sz3_bounds: tuple[float, ...]
    zfp_tolerances: tuple[float, ...]


@dataclass(frozen=True)
class ExperimentSettings:
    """What a method may read of its experiment."""

    # The trainer's own mapping (experiments/training.py reads it key by key), read-only.
    training: Mapping[str, Any]
    pruning: PruningSettings
    supermask: SupermaskSettings
    structured: StructuredSettings
    rewind_iteration: int | None  # theta_k's k, for the methods that rewind
    # Sections only the experiments running those methods have (None elsewhere).
    early_bird: EarlyBirdSettings | None = None
    rigl: RigLSettings | None = None
    compression: CompressionSettings | None = None  # absent unless the experiment compresses

    @property
    def eval_batch_size(self) -> int:
        return self.training["eval_batch_size"]


# Keys of the supermask section that set the score search's optimizer (SupermaskSettings.search).
SEARCH_KEYS = ("optimizer", "momentum", "weight_decay", "lr_schedule")


def experiment_settings(cfg: Mapping[str, Any]) -> ExperimentSettings:
    """The typed settings of a validated, default-filled experiment config."""
    pruning, supermask, structured = cfg["pruning"], cfg["supermask"], cfg["structured"]
    return ExperimentSettings(
        training=MappingProxyType(dict(cfg["training"])),
        pruning=PruningSettings(pruning["scope"], MappingProxyType(dict(pruning.get("rates", {}))),
                                pruning["rounds"], tuple(pruning.get("channel_ratios", ())),
                                # No schema defaults, so the configs (and hashes) of experiments
                                # that do not set them stay as they were.
                                pruning.get("global_count", "pool"),
                                pruning.get("output_in_pool", False)),
        supermask=SupermaskSettings(
            supermask["rescale"], supermask["lr"], supermask.get("iterations"),
            MappingProxyType({key: supermask[key] for key in SEARCH_KEYS if key in supermask}),
            MappingProxyType(dict(supermask.get("bernoulli", {})))),
        structured=StructuredSettings(**structured),
        rewind_iteration=cfg.get("rewind_iteration"),
        early_bird=EarlyBirdSettings(**cfg["early_bird"]) if "early_bird" in cfg else None,
        rigl=RigLSettings(**cfg["rigl"]) if "rigl" in cfg else None,
        compression=_compression(cfg.get("compression")))


def _compression(section: Mapping[str, Any] | None) -> CompressionSettings | None:
    if section is None:
        return None
    return CompressionSettings(**{key: tuple(value) if isinstance(value, list) else value
                                  for key, value in section.items()})
