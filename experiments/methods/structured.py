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

Every training is a job for the scheduler (experiments/trials.py), which stacks the narrow
networks of one shape and settings (experiments/stacked_conv.py). Round 0 is the family's dense
network. Rows report the narrow network's own parameter and FLOP
counts; the mask (for the density column) is the same cut in the dense network's shapes.

Rows of the trainings run here (rounds >= 1, slimming's dense network) also say what the last
tenth of the budget bought (``TrainResult.late_gains``).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from experiments import flops
from experiments.batched_training import TrainJob
from experiments.masks import Mask, dense_mask
from experiments.method_api import Method, MethodContext, RoundRun, StateHandle
from experiments.settings import StructuredSettings
from experiments.structured import (channel_mask, channel_scores, fresh_init, narrow,
                                    penalty_hook, select_channels)
from experiments.training import state_snapshot

SLIM_DENSE = "slim_dense"  # trial-state name of slimming's penalised dense network
# family -> (channel criterion, selection scope, roles of the methods it requires)
FAMILIES = {"l1": ("l1", "layerwise", ("trained_dense",)), "slim": ("bn_scale", "global", ())}
VARIANTS = ("finetune", "ticket", "scratch_e", "scratch_b")


class StructuredMethod(Method):
    """One (family, variant) pair, e.g. ``l1`` + ``scratch_b``."""

    def __init__(self, family: str, variant: str):
        if family not in FAMILIES:
            raise ValueError(f"unknown structured family {family!r} (known: {', '.join(FAMILIES)})")
        if variant not in VARIANTS:
            raise ValueError(f"unknown structured variant {variant!r} "
                             f"(known: {', '.join(VARIANTS)})")
        self.family, self.variant = family, variant
        self.roles = FAMILIES[family][2]
        # Fine-tuning has its own learning rate: the one to lower when it diverges.
        self.lr_setting = "structured.finetune_lr" if variant == "finetune" else "training.lr"

    def run_round(self, context: MethodContext, round_index: int) -> RoundRun:
        if round_index == 0:
            return (yield from dense_round(context, self.family))
        criterion, scope, _ = FAMILIES[self.family]
        trained = yield from dense_model(context, self.family)
        ratio = context.settings.pruning.channel_ratios[round_index - 1]
        keep = select_channels(channel_scores(trained, criterion), ratio, scope)
        model, cfg = self._start(context, trained, keep)
        # The narrow model travels with the job: its shape groups the jobs that stack.
        result = yield TrainJob(state_snapshot(model), dense_mask(model),
                                context.seeds.data_order, model=model, cfg=dict(cfg))
        size = flops.count(model, context.dataset.input_shape)
        return channel_mask(trained, keep), {**result.metrics(), **result.late_gains(),
                                             "params": size.params, "flops": size.flops}

    def _start(self, context: MethodContext, trained: nn.Module,
               keep: dict) -> tuple[nn.Module, dict]:
        """The narrow model with this variant's starting weights, and its training settings."""
        training, structured = context.settings.training, context.settings.structured
        if self.variant == "finetune":
            return narrow(trained, keep), finetune_settings(training, structured)
        initial = context.build_model(context.seeds.init)
        initial.load_state_dict(context.initial_weights())
        model = narrow(initial, keep)
        if self.variant == "ticket":
            return model, training
        torch.manual_seed(context.seeds.reinit)
        fresh_init(model)
        if self.variant == "scratch_e":
            return model, training
        factor = budget_factor(trained, model, context.dataset.input_shape,
                               structured.scratch_b_max_factor)
        return model, scaled_settings(training, factor)


def dense_round(context: MethodContext, family: str) -> RoundRun:
    """(mask, metrics) of the family's dense network, trained once per trial."""
    if family == "l1":
        return context.required("trained_dense").finished_round(0)
    return context.dense_mask(), (yield from slim_dense_metrics(context))


def dense_model(context: MethodContext, family: str) -> RoundRun:
    """The family's trained dense network, on the trial's device."""
    if family == "slim":
        yield from slim_dense_metrics(context)  # trains it if this trial has not yet
    source = context.required("trained_dense") if family == "l1" else context.private(SLIM_DENSE)
    model = context.build_model(context.seeds.init)
    model.load_state_dict(source.trained_weights(0))
    return model


def slim_dense_metrics(context: MethodContext) -> RoundRun:
    """Metrics of slimming's dense network, which is trained (and kept) on first use.

    Every slim method of a seed that starts before it exists asks for it; the jobs share one
    key, so it trains once (batched_training.train_jobs) and each saves the same bytes. Its
    weights are saved before its metrics, whose file marks it done, so a run killed in between
    trains it again."""
    slim_dense: StateHandle = context.private(SLIM_DENSE)
    if not slim_dense.has_row(0):
        penalty = context.settings.structured.slimming_penalty
        penalty_hook(context.build_model(context.seeds.init), penalty)  # checks the model
        result = yield TrainJob(context.initial_weights(), context.dense_mask(),
                                context.seeds.data_order, scale_penalty=penalty,
                                share=(SLIM_DENSE, context.seed))
        slim_dense.save_trained_weights(0, result.final_weights)
        slim_dense.save_row(0, {**result.metrics(), **result.late_gains()})
    return slim_dense.row(0)


def finetune_settings(training: Mapping, structured: StructuredSettings) -> dict:
    """Fine-tuning: its own steps, at a constant learning rate (no warm-up, no milestones)."""
    iterations = structured.finetune_iterations
    return {**training, "iterations": iterations, "lr": structured.finetune_lr,
            "eval_every": min(training["eval_every"], iterations), "warmup_iterations": 0,
            "lr_milestones": []}


def budget_factor(dense: nn.Module, pruned: nn.Module, input_shape: tuple[int, ...],
                  max_factor: float) -> float:
    """Scratch-B's step multiplier: min(max_factor, dense FLOPs / pruned FLOPs), at least 1."""
    ratio = flops.count(dense, input_shape).flops / flops.count(pruned, input_shape).flops
    return max(1.0, min(max_factor, ratio))


def scaled_settings(training: Mapping, factor: float) -> dict:
    """Training settings with the steps and the learning-rate milestones stretched by ``factor``
    (rounded to whole steps), so the schedule keeps its shape, as Liu et al. (2019) do."""
    return {**training, "iterations": round(training["iterations"] * factor),
            "lr_milestones": [round(step * factor) for step in training.get("lr_milestones", [])]}
