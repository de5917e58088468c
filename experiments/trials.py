"""Run the rounds of one or more trials (seeds) of an experiment in one process, training the
networks of many rounds side by side.

A round (one method, one round index, one seed) is a *unit*. A method's ``run_round`` is a
generator (the contract: experiments/method_api.py): it yields the training jobs it needs and gets
their results back. The scheduler starts every unit it can, gathers the jobs they yield into one
*wave*, trains the wave with ``batched_training.train_jobs`` (stacked where the network allows)
and resumes each unit with its result. In the lottery-ticket experiment a wave is one round of
imp, imp_rewind, oneshot, reinit and random for every seed. The scheduler is given the methods
it runs; it knows no method by name.

Which units can start: units are visited round by round and, within a round, in execution order
(a method after the methods it requires), seed by seed. A unit waits until the previous round of
its own method has finished. A unit that needs a file another unit has not written yet
(``MissingState``: e.g. random's round 0 reuses imp's finished round 0) waits for the next wave.
Results do not depend on how units fall into waves: a unit reads only files written before it
starts, and every job trains as it would alone (experiments/batched_training.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Generator, Mapping, Protocol

from experiments.batched_training import TrainJob, train_jobs
from experiments.data import Dataset
from experiments.method_api import Method, MethodContext
from experiments.training import Diverged
from experiments.trial_state import CorruptState, MissingState


class ScheduledTrial(Protocol):
    """What the scheduler needs of a trial (experiments/trial.py's Trial has it)."""

    seed: int
    dataset: Dataset
    cfg: Mapping[str, Any]

    def model_builder(self) -> Callable: ...
    def context(self, method: str) -> MethodContext: ...
    def producer(self, path: Path) -> tuple[str, int] | None: ...
    def undo(self, method: str, round_index: int, why: str) -> bool: ...


@dataclass
class Unit:
    trial: ScheduledTrial
    method: str
    round_index: int
    started: float = 0.0
    runner: Generator | None = None
    job: TrainJob | None = None  # yielded by the runner, waiting to be trained
    trained: list[TrainJob] = field(default_factory=list)  # every job trained for this unit


class UnitDiverged(RuntimeError):
    """Training of ``unit`` diverged (``error``: the iteration and the loss)."""

    def __init__(self, unit: Unit, error: Diverged):
        super().__init__(str(error))
        self.unit, self.error = unit, error


@dataclass
class Scheduler:
    """Runs ``units`` (per trial: (method, round) pairs not done yet, in execution order)."""

    units: list[Unit]
    methods: Mapping[str, Method]  # name -> the method of every unit
    finish: Callable[[Unit, tuple], None]  # saves the round's mask and row
    stack: bool = True
    max_models: int | None = None

    def __post_init__(self) -> None:
        # Units come trial by trial in execution order: first appearance gives both orders.
        self._method_rank = _ranks(unit.method for unit in self.units)
        self._seed_rank = _ranks(unit.trial.seed for unit in self.units)
        self._sort()

    def _sort(self) -> None:
        self.units.sort(key=lambda u: (u.round_index, self._method_rank[u.method],
                                       self._seed_rank[u.trial.seed]))

    def run(self) -> None:
        while self.units:
            wave = self._fill_wave()
            if not wave:
                return  # the last units finished without training
            try:
                results = train_jobs([unit.job for unit in wave], wave[0].trial.model_builder(),
                                     wave[0].trial.dataset, wave[0].trial.cfg["training"],
                                     stack=self.stack, max_models=self.max_models)
            except Diverged as err:
                raise UnitDiverged(wave[err.model or 0], err) from None
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
                    # A file deleted as corrupt is written again by the unit itself (tried
                    # again at once) or by the finished round that wrote it (redone).
                    redone = self._redo(unit, error)
                    progress = progress or redone or isinstance(error, CorruptState)
        wave = [unit for unit in self.units if unit.job is not None]
        if self.units and not wave:
            raise missing or RuntimeError("no unit can start and none is training")
        return wave

    def _redo(self, unit: Unit, error: MissingState) -> bool:
        """Redo the finished round that wrote the file ``unit`` misses, when one did: True if a
        round was redone. Safe because a round depends only on files written before it and on
        seeds: done again it writes the same bytes (experiments/trial.py)."""
        key = unit.trial.producer(error.path) if error.path is not None else None
        pending = {(u.method, u.round_index) for u in self.units if u.trial is unit.trial}
        if key is None or key in pending:
            return False
        if unit.trial.undo(*key, str(error)):
            redone = Unit(unit.trial, *key)
            self._method_rank.setdefault(redone.method, len(self._method_rank))
            self.units.append(redone)
            self._sort()
        return True

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
        method = self.methods[unit.method]
        unit.runner = method.run_round(unit.trial.context(unit.method), unit.round_index)
        try:
            self._advance(unit, None)
        except MissingState:
            unit.runner = None  # started again from scratch once the file exists
            raise

    def _advance(self, unit: Unit, result) -> None:
        try:
            unit.job = unit.runner.send(result)
        except StopIteration as stop:
            self._done(unit, stop.value)
        except Diverged as err:
            raise UnitDiverged(unit, err) from None

    def _done(self, unit: Unit, outcome: tuple) -> None:
        self.units.remove(unit)
        self.finish(unit, outcome)


def _ranks(items) -> dict:
    """Item -> position of its first appearance."""
    return {item: rank for rank, item in enumerate(dict.fromkeys(items))}
