"""The contract between a pruning method and the trial that runs it.

A method is a ``Method`` subclass with one entry point, ``run_round(context, round_index)``, a
generator: it yields the ``TrainJob``s it wants trained (the scheduler, experiments/trials.py,
trains them beside other methods' and seeds' jobs and sends each ``TrainResult`` back) and
returns ``(mask, metrics)``. A method that trains or evaluates in-process yields nothing. Round 0
is the dense network.

What a method sees is a ``MethodContext``: its settings (typed, experiments/settings.py), the
trial's seeds, data, theta_0 and model, a ``StateHandle`` on its own saved results and one on
the results of each method it requires, by the role its catalogue line (experiments/catalogue.py)
gives it. It never sees the raw config, the state folder or another method's name.

This module imports neither the trial nor the registry: both import it.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Callable, Generator, Mapping, Protocol

from experiments.batched_training import TrainJob
from experiments.catalogue import MethodEntry
from experiments.masks import Mask
from experiments.settings import ExperimentSettings
from experiments.training import StateDict, TrainResult
from experiments.trial_state import TrialState

if TYPE_CHECKING:
    import torch
    from torch import nn

    from experiments.data import Dataset
    from experiments.seeding import TrialSeeds

# What TrainResult.metrics() measures, and so what a round's outcome reports (rounds.csv).
# params, flops, compression and speedup are Blalock et al.'s size metrics (experiments/flops.py).
METRIC_FIELDS = ("test_acc", "val_acc", "val_loss", "early_stop_iter", "final_test_acc",
                 "final_val_acc", "iterations", "params", "flops", "compression", "speedup")
RoundOutcome = tuple[Mask, dict]
RoundRun = Generator[TrainJob, TrainResult, RoundOutcome]


class StateHandle:
    """One name's saved results in this trial: a method's own, or one it requires."""

    def __init__(self, state: TrialState, name: str):
        self._state, self.name = state, name

    def mask(self, round_index: int) -> Mask:
        return self._state.load_mask(self.name, round_index)

    def has_mask(self, round_index: int) -> bool:
        return self._state.has_mask(self.name, round_index)

    def save_mask(self, round_index: int, mask: Mask) -> None:
        self._state.save_mask(self.name, round_index, mask)

    def trained_weights(self, round_index: int) -> StateDict:
        return self._state.load_weights(self.name, round_index)

    def save_trained_weights(self, round_index: int, weights: StateDict) -> None:
        self._state.save_weights(self.name, round_index, weights)

    def delete_trained_weights(self, round_index: int) -> None:
        self._state.delete_weights(self.name, round_index)

    def has_row(self, round_index: int) -> bool:
        return self._state.has_row(self.name, round_index)

    def row(self, round_index: int) -> dict:
        return self._state.load_row(self.name, round_index)

    def save_row(self, round_index: int, row: dict) -> None:
        self._state.save_row(self.name, round_index, row)

    def finished_round(self, round_index: int) -> RoundOutcome:
        """(mask, metrics) of a finished round, for a method whose round trains the same net."""
        row = self.row(round_index)
        return self.mask(round_index), {key: row[key] for key in METRIC_FIELDS}

    def rewind_weights(self) -> StateDict:
        """theta_k, which this name's dense round recorded."""
        return self._state.load_rewind_weights()

    def save_rewind_weights(self, weights: StateDict) -> None:
        self._state.save_rewind_weights(weights)


class TrialServices(Protocol):
    """What the trial offers a context (experiments/trial.py's Trial has it)."""

    seed: int
    seeds: TrialSeeds
    dataset: Dataset
    device: torch.device
    kinds: dict[str, str]
    state: TrialState

    def dense_mask(self) -> Mask: ...
    def initial_weights(self) -> StateDict: ...
    def build_model(self, init_seed: int) -> nn.Module: ...
    def prune(self, weights: StateDict, mask: Mask) -> Mask: ...


class MethodContext:
    """Everything one method may use in one trial."""

    def __init__(self, trial: TrialServices, settings: ExperimentSettings, own: str,
                 requires: Mapping[str, str]):
        self._trial = trial
        self.settings = settings
        self.seed, self.seeds = trial.seed, trial.seeds
        self.dataset, self.device, self.kinds = trial.dataset, trial.device, trial.kinds
        self.own = StateHandle(trial.state, own)
        self._required = {role: StateHandle(trial.state, name) for role, name in requires.items()}
        self.dense_mask: Callable[[], Mask] = trial.dense_mask
        self.initial_weights: Callable[[], StateDict] = trial.initial_weights
        self.build_model: Callable[[int], nn.Module] = trial.build_model
        self.prune: Callable[[StateDict, Mask], Mask] = trial.prune

    def required(self, role: str) -> StateHandle:
        """The results of the method that fills ``role`` (its catalogue line's ``requires``)."""
        try:
            return self._required[role]
        except KeyError:
            raise KeyError(f"method {self.own.name} has no required method in role {role!r} "
                           f"(its catalogue line gives {sorted(self._required)})") from None

    def private(self, name: str) -> StateHandle:
        """Results a method keeps under a name of its own (slimming's penalised dense net)."""
        return StateHandle(self._trial.state, name)

    def job(self, mask: Mask, start_weights: StateDict, snapshot_iteration: int | None = None,
            start_iteration: int = 0) -> TrainJob:
        """Training from ``start_weights`` under ``mask`` with the trial's data order, for the
        method to yield; ``start_iteration`` k resumes the schedule and data order at step k."""
        return TrainJob(start_weights, mask, self.seeds.data_order, snapshot_iteration,
                        start_iteration)


class Method(ABC):
    """A pruning method. Subclasses set ``roles`` to the roles of the methods they require and
    implement ``run_round``; the catalogue line names the class and its options."""

    roles: tuple[str, ...] = ()  # roles it calls context.required with
    lr_setting: str = "training.lr"  # the setting to lower when its training diverges

    def rounds(self, round_count: int) -> list[int]:
        """The rounds it has rows for: all of 0..round_count unless a method says fewer."""
        return list(range(round_count + 1))

    @abstractmethod
    def run_round(self, context: MethodContext, round_index: int) -> RoundRun:
        """Yield jobs, receive their results, return (mask, metrics) of round ``round_index``."""


def load_method(entry: MethodEntry) -> Method:
    """The method object of a catalogue line."""
    module_name, _, class_name = entry.implementation.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    method = cls(**entry.options)
    if not isinstance(method, Method):
        raise TypeError(f"{entry.implementation} is not an experiments.method_api.Method")
    if set(method.roles) != set(entry.requires):
        raise TypeError(f"method {entry.name}: {entry.implementation} uses roles "
                        f"{sorted(method.roles)}, its catalogue line gives {sorted(entry.requires)}")
    return method
