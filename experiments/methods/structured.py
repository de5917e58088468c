"""Structured (channel) pruning and the retraining choices Liu et al. (2019) compare.

Two families choose the channels, one-shot, from a trained dense network:

- ``l1``: the filters with the smallest L1 norms, the same fraction in every layer (Li et al.
  2017). The dense network is the ``dense`` method's (plain training from theta_0).
- ``slim``: network slimming (Liu et al. 2017). Its dense network is trained from theta_0 with the
  L1 penalty ``structured.slimming_penalty`` on the batch-norm scales, once per trial and shared by
  the four slim methods (state name ``slim_dense``); the channels with the smallest |scale| across
  all layers are removed.

Round r >= 1 removes the fraction ``pruning.channel_ratios[r-1]`` of the channels and builds the
physically narrower network, which is then trained in one of four ways:

- ``finetune``: from the dense network's trained weights of the kept channels, for
  ``structured.finetune_iterations`` steps at the constant rate ``structured.finetune_lr``;
- ``ticket``: from the kept channels' initial weights theta_0 (the winning-ticket initialisation),
  with the dense network's training settings;
- ``scratch_e``: from a fresh random initialisation of the narrow architecture (seed
  ``reinit``), same settings (Scratch-E: the same number of steps);
- ``scratch_b``: like scratch_e, with the steps and learning-rate milestones multiplied by
  min(``structured.scratch_b_max_factor``, dense FLOPs / pruned FLOPs) (Scratch-B: about the same
  computation as the dense training).

Round 0 is the family's dense network. Rows report the narrow network's own parameter and FLOP
counts; the mask (for the density column) is the same cut in the dense network's shapes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import nn

from experiments import flops
from experiments.config import ConfigError
from experiments.masks import Mask, dense_mask
from experiments.structured import (channel_mask, channel_scores, fresh_init, narrow,
                                    penalty_hook, select_channels)
from experiments.training import train

if TYPE_CHECKING:
    from experiments.trial import Trial

DENSE = "dense"  # the method whose round 0 is the plain dense network
SLIM_DENSE = "slim_dense"  # trial-state name of slimming's penalised dense network
# family -> (channel criterion, selection scope, methods it requires)
FAMILIES = {"l1": ("l1", "layerwise", (DENSE,)), "slim": ("bn_scale", "global", ())}
VARIANTS = ("finetune", "ticket", "scratch_e", "scratch_b")
# Defaults of the ``structured`` config keys (the schema fills the same ones).
DEFAULTS = {"finetune_iterations": 500, "finetune_lr": 0.001, "slimming_penalty": 1e-4,
            "scratch_b_max_factor": 2.0}


@dataclass(frozen=True)
class StructuredMethod:
    """One (family, variant) pair, e.g. ``l1`` + ``scratch_b``; used like a method module."""

    family: str
    variant: str
    REQUIRES: tuple[str, ...] = ()

    @property
    def LR_SETTING(self) -> str:  # noqa: N802 (read like the modules' constant)
        """The learning rate to look at when a round diverges (fine-tuning has its own)."""
        return "structured.finetune_lr" if self.variant == "finetune" else "training.lr"

    def run_round(self, trial: Trial, round_index: int) -> tuple[Mask, dict]:
        if round_index == 0:
            return dense_round(trial, self.family)
        criterion, scope, _ = FAMILIES[self.family]
        trained = dense_model(trial, self.family)
        keep = select_channels(channel_scores(trained, criterion),
                               channel_ratio(trial.cfg, round_index), scope)
        model, cfg = self._start(trial, trained, keep)
        result = train(model, dense_mask(model), trial.dataset, cfg,
                       data_seed=trial.seeds.data_order)
        size = flops.count(model, trial.dataset.input_shape)
        return channel_mask(trained, keep), {**result.metrics(), "params": size.params,
                                             "flops": size.flops}

    def _start(self, trial: Trial, trained: nn.Module, keep: dict) -> tuple[nn.Module, dict]:
        """The narrow model with this variant's starting weights, and its training settings."""
        training = trial.cfg["training"]
        if self.variant == "finetune":
            return narrow(trained, keep), finetune_settings(training, settings(trial.cfg))
        initial = trial.build_model(trial.seeds.init)
        initial.load_state_dict(trial.initial_weights())
        model = narrow(initial, keep)
        if self.variant == "ticket":
            return model, training
        torch.manual_seed(trial.seeds.reinit)
        fresh_init(model)
        if self.variant == "scratch_e":
            return model, training
        factor = budget_factor(trained, model, trial.dataset.input_shape,
                               settings(trial.cfg)["scratch_b_max_factor"])
        return model, scaled_settings(training, factor)


def method(family: str, variant: str) -> StructuredMethod:
    """The method ``{family}_{variant}``, e.g. ``method("l1", "finetune")``."""
    if family not in FAMILIES:
        raise ValueError(f"unknown structured family {family!r} (known: {', '.join(FAMILIES)})")
    if variant not in VARIANTS:
        raise ValueError(f"unknown structured variant {variant!r} (known: {', '.join(VARIANTS)})")
    return StructuredMethod(family, variant, FAMILIES[family][2])


# Registry entries: "l1_finetune", ..., "slim_scratch_b".
METHODS = {f"{family}_{variant}": method(family, variant)
           for family in FAMILIES for variant in VARIANTS}


def settings(cfg: dict) -> dict:
    """The experiment's ``structured`` keys with their defaults."""
    return {**DEFAULTS, **cfg.get("structured", {})}


def channel_ratio(cfg: dict, round_index: int) -> float:
    """Fraction of channels removed at ``round_index`` (>= 1)."""
    ratios = cfg["pruning"].get("channel_ratios")
    if not ratios or round_index > len(ratios):
        raise ConfigError(f"pruning.channel_ratios gives {len(ratios or [])} ratios; round "
                          f"{round_index} needs one per round")
    return ratios[round_index - 1]


def dense_round(trial: Trial, family: str) -> tuple[Mask, dict]:
    """(mask, metrics) of the family's dense network, trained once per trial."""
    if family == "l1":
        return trial.reuse_round(DENSE, 0)
    return trial.dense_mask(), slim_dense_metrics(trial)


def dense_model(trial: Trial, family: str) -> nn.Module:
    """The family's trained dense network, on the trial's device."""
    if family == "slim":
        slim_dense_metrics(trial)  # trains it if this trial has not yet
    model = trial.build_model(trial.seeds.init)
    model.load_state_dict(trial.state.load_weights(DENSE if family == "l1" else SLIM_DENSE, 0))
    return model


def slim_dense_metrics(trial: Trial) -> dict:
    """Metrics of slimming's dense network, which is trained (and kept) on first use.

    Its weights are saved before its metrics, whose file marks it done, so a run killed in
    between trains it again."""
    if not trial.state.has_row(SLIM_DENSE, 0):
        model = trial.build_model(trial.seeds.init)
        model.load_state_dict(trial.initial_weights())
        hook = penalty_hook(model, settings(trial.cfg)["slimming_penalty"])
        result = train(model, trial.dense_mask(), trial.dataset, trial.cfg["training"],
                       data_seed=trial.seeds.data_order, grad_hook=hook)
        trial.state.save_weights(SLIM_DENSE, 0, result.final_weights)
        trial.state.save_row(SLIM_DENSE, 0, result.metrics())
    return trial.state.load_row(SLIM_DENSE, 0)


def finetune_settings(training: dict, structured: dict) -> dict:
    """Fine-tuning: its own steps, at a constant learning rate (no warm-up, no milestones)."""
    iterations = structured["finetune_iterations"]
    return {**training, "iterations": iterations, "lr": structured["finetune_lr"],
            "eval_every": min(training["eval_every"], iterations), "warmup_iterations": 0,
            "lr_milestones": []}


def budget_factor(dense: nn.Module, pruned: nn.Module, input_shape: tuple[int, ...],
                  max_factor: float) -> float:
    """Scratch-B's step multiplier: min(max_factor, dense FLOPs / pruned FLOPs), at least 1."""
    ratio = flops.count(dense, input_shape).flops / flops.count(pruned, input_shape).flops
    return max(1.0, min(max_factor, ratio))


def scaled_settings(training: dict, factor: float) -> dict:
    """Training settings with the steps and the learning-rate milestones stretched by ``factor``
    (rounded to whole steps), so the schedule keeps its shape, as Liu et al. (2019) do."""
    return {**training, "iterations": round(training["iterations"] * factor),
            "lr_milestones": [round(step * factor) for step in training.get("lr_milestones", [])]}
