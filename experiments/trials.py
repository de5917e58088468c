"""Run the rounds of one or more trials (seeds) of an experiment in one process, training the
networks of many rounds side by side.

A round (one method, one round index, one seed) is a *unit*. A method's ``run_round`` may be a
generator (see experiments/methods/__init__.py): it yields the training jobs it needs and gets
their results back. The scheduler starts every unit it can, gathers the jobs they yield into one
*wave*, trains the wave with ``batched_training.train_jobs`` (stacked where the network allows)
and resumes each unit with its result. In the lottery-ticket experiment a wave is one round of
imp, imp_rewind, oneshot, reinit and random for every seed.

Which units can start: units are visited round by round and, within a round, in execution order
(a method after the methods it requires), seed by seed. A unit waits until the previous round of
its own method has finished. A unit that needs a file another unit has not written yet
(``MissingState``: e.g. random's round 0 reuses imp's finished round 0) waits for the next wave.
Results do not depend on how units fall into waves: a unit reads only files written before it
starts, and every job trains as it would alone (experiments/batched_training.py).
"""

from __future__ import annotations

import inspect
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Generator

from experiments.batched_training import TrainJob, train_jobs
from experiments.methods import METHODS

if TYPE_CHECKING:
    from experiments.trial import Trial


class MissingState(RuntimeError):
    """A unit needs a trial-state file that no finished unit has written (yet)."""


@dataclass
class Unit:
    trial: Trial
    method: str
    round_index: int
    started: float = 0.0
    runner: Generator | None = None
    job: TrainJob | None = None  # yielded by the runner, waiting to be trained
    trained: list[TrainJob] = field(default_factory=list)  # every job trained for this unit


@dataclass
class Scheduler:
    """Runs ``units`` (per trial: (method, round) pairs not done yet, in execution order)."""

    units: list[Unit]
    finish: Callable[[Unit, tuple], None]  # saves the round's mask and row
    stack: bool = True
    max_models: int | None = None

    def __post_init__(self) -> None:
        # Units come trial by trial in execution order: first appearance gives both orders.
        method_rank = _ranks(unit.method for unit in self.units)
        seed_rank = _ranks(unit.trial.seed for unit in self.units)
        self.units.sort(key=lambda u: (u.round_index, method_rank[u.method], seed_rank[u.trial.seed]))

    def run(self) -> None:
        while self.units:
            wave = self._fill_wave()
            if not wave:
                return  # the last units finished without training
            results = train_jobs([unit.job for unit in wave], wave[0].trial.model_builder(),
                                 wave[0].trial.dataset, wave[0].trial.cfg["training"],
                                 stack=self.stack, max_models=self.max_models)
            for unit, result in zip(wave, results):
                unit.trained.append(unit.job)
                unit.job = None
                self._advance(unit, result)

    def _fill_wave(self) -> list[Unit]:
        """Start every unit that can start, until none can; the units now holding a job."""
        missing: MissingState | None = None
        progress = True
        while progress:
            progress, missing = False, None
            for unit in self._heads():
                if unit.runner is not None:
                    continue
                try:
                    self._start(unit)
                    progress = True
                except MissingState as error:
                    missing = missing or error
        wave = [unit for unit in self.units if unit.job is not None]
        if self.units and not wave:
            raise missing or RuntimeError("no unit can start and none is training")
        return wave

    def _heads(self) -> list[Unit]:
        """The first unfinished unit of each (trial, method), in visiting order."""
        seen, heads = set(), []
        for unit in self.units:
            key = (id(unit.trial), unit.method)
            if key not in seen:
                seen.add(key)
                heads.append(unit)
        return heads

    def _start(self, unit: Unit) -> None:
        unit.started = time.perf_counter()
        outcome = METHODS[unit.method].run_round(unit.trial, unit.round_index)
        if inspect.isgenerator(outcome):
            unit.runner = outcome
            try:
                self._advance(unit, None)
            except MissingState:
                unit.runner = None  # started again from scratch once the file exists
                raise
        else:
            self._done(unit, outcome)

    def _advance(self, unit: Unit, result) -> None:
        try:
            unit.job = unit.runner.send(result)
        except StopIteration as stop:
            self._done(unit, stop.value)

    def _done(self, unit: Unit, outcome: tuple) -> None:
        self.units.remove(unit)
        self.finish(unit, outcome)


def _ranks(items) -> dict:
    """Item -> position of its first appearance."""
    return {item: rank for rank, item in enumerate(dict.fromkeys(items))}
