"""Trials: every method of one experiment for one seed, resumable; several seeds may share a run.

    python -m experiments.trial --experiments-file F --experiment E --seed S --out results/E/seeds/S
                                [--seed S2 ... --out 'results/E/seeds/{seed}']
                                [--device auto|cpu|cuda] [--data-root data] [--threads N]
                                [--one-at-a-time] [--max-models N] [--stop-after-rounds N]
                                [--log FILE]

Seeds given together train side by side (experiments/trials.py): the networks that rounds of
every seed need at the same time train as one stacked network, as many as fit in memory (or
``--max-models``); ``--one-at-a-time`` turns stacking off. The results are the same either way.
Once every method of a seed has finished it writes ``OUT/provenance.json`` (wall time of this
invocation) and then ``OUT/rounds.csv`` (one row per (method, round); columns ROW_FIELDS), both
atomically.
``--threads`` sets torch's CPU threads (torch's default when absent). Progress goes to stderr,
one line per finished round: experiment, seed, method, round, density, test accuracy, the
round's time, then rounds done of all the job's rounds (every method and seed), time elapsed and
an estimate of the time left. ``--log FILE`` sends everything else (resume notes, redone rounds,
library warnings) to FILE, which also gets the progress lines; without it all goes to stderr.
Exit status: 0 done, 2 bad input, a diverging run, a file that cannot be read or written (one
line on stderr: what and where, no traceback), 3 stopped by ``--stop-after-rounds``, 130
interrupted. Nothing is written before the arguments (config, device, seeds) are checked.
Everything else lives in ``OUT/state/``:

    trial.json                        experiment, seed, settings hash and device kind
    init.pt                           theta_0, the initial weights (state dict)
    masks/METHOD_round_RR.pt          each round's mask
    rows/METHOD_round_RR.json         each round's results: written last, it marks the round done
    weights/imp_round_00_final.pt     the trained dense network (oneshot prunes it)
    weights/METHOD_round_RR_final.pt  latest trained weights of imp and imp_rewind (pruned next)
    weights/rewind.pt                 theta_k: the dense network after rewind_iteration steps

Resume (the state files: experiments/trial_state.py): a rerun skips every (method, round) whose row
file exists and redoes the rest (state made under other dataset/model/training/pruning settings is
discarded first). Each round depends only on files written before its row and on seeds derived from
the trial seed (see experiments/seeding.py), so a run killed at any moment ends, once rerun, with
the same masks and rows, bit for bit, as an uninterrupted run (same device and thread count).

Unreadable state (a truncated or empty file: a full disk, a copy cut short) is redone, for the
same reason: a row file that cannot be read is deleted when the trial starts, so its round runs
again; a mask or weights file is deleted when a round fails to read it, and the finished round
that wrote it runs again (and, when that round needs weights deleted since, the round before it);
theta_0 is made again from the seed. Each redone round is one log line. An unreadable
``trial.json`` stops the trial instead: it cannot say whose state the folder holds.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from experiments import atomic
from experiments import flops
from experiments.catalogue import METHODS as CATALOGUE, required_methods
from experiments.config import ConfigError, experiment_config, round_count
from experiments.console import Console, guarded
from experiments.data import (Dataset, DatasetFormatError, DatasetSpecError, DatasetUnavailable,
                              load_dataset)
from experiments.masks import Mask, dense_mask, density, layer_kinds, magnitude_prune
from experiments.method_api import METRIC_FIELDS, Method, MethodContext
from experiments.methods import load_methods
from experiments.models import ModelSpecError, build_model
from experiments.provenance import collect_provenance
from experiments.structured import StructureError
from experiments.seeding import TrialSeeds, configure_torch, resolve_device
from experiments.settings import experiment_settings
from experiments.training import StateDict, state_snapshot
from experiments.trial_state import (CorruptState, MissingState, TrialError, TrialState,
                                     load_torch, state_identity)
from experiments.progress import Progress
from experiments.trials import Scheduler, Unit, UnitDiverged

# rounds.csv columns: which round, then what TrainResult.metrics() measured in it.
KEY_FIELDS = ("method", "seed", "round", "density")
ROW_FIELDS = KEY_FIELDS + METRIC_FIELDS
EXIT_BAD_INPUT, EXIT_STOPPED = 2, 3


class StopTrial(Exception):
    """Raised by an ``after_round`` hook to end a trial early; rerunning resumes it."""


# Errors that mean "bad input or environment", reported in one line; anything else is a bug and
# keeps its traceback.
BAD_INPUT_ERRORS = (ConfigError, TrialError, DatasetUnavailable, DatasetFormatError,
                    DatasetSpecError, ModelSpecError, StructureError, MissingState)


class Trial:
    """One seed of an experiment: config, seeds, data, state, and the methods it runs. Methods
    see it only through the narrower ``MethodContext`` (``context``)."""

    def __init__(self, experiment: str, cfg: dict, seed: int, dataset: Dataset,
                 state: TrialState, device: torch.device, log: Callable[[str], None] = print,
                 methods: dict[str, Method] | None = None):
        self.experiment, self.cfg, self.seed, self.log = experiment, cfg, seed, log
        self.methods = methods if methods is not None else load_methods(cfg["methods"])
        self.settings = experiment_settings(cfg)
        self.seeds = TrialSeeds(seed)
        self.dataset, self.state, self.device = dataset, state, device
        model = self.build_model(self.seeds.init)
        self.kinds = layer_kinds(model)
        self._dense = dense_mask(model)
        self._initial: StateDict | None = None
        self._counted = model  # only its architecture is used, to count parameters and flops
        self.dense_size = flops.count(model, dataset.input_shape)

    def size_metrics(self, mask: Mask) -> dict:
        """params, flops, compression and speedup of the trial's model under ``mask``."""
        size = flops.count(self._counted, self.dataset.input_shape, mask)
        return {"params": size.params, "flops": size.flops, **flops.ratios(self.dense_size, size)}

    def build_model(self, init_seed: int) -> nn.Module:
        """A freshly initialised model on the device; its weights depend only on ``init_seed``."""
        torch.manual_seed(init_seed)
        model = build_model(self.cfg["model"], self.dataset.input_shape, self.dataset.num_classes)
        return model.to(self.device)

    def initial_weights(self) -> StateDict:
        """theta_0, made once from the init seed and kept in ``state/init.pt`` (made again, the
        same, when that file is unreadable)."""
        if self._initial is None:
            path = self.state.root / "init.pt"
            try:
                self._initial = self._load_initial(path)
            except CorruptState as err:
                self.log(f"{self.tag()} {err}: made again from the seed")
                self._initial = self._load_initial(path)
        return self._initial

    def _load_initial(self, path: Path) -> StateDict:
        if not path.exists():
            atomic.write_torch(path, state_snapshot(self.build_model(self.seeds.init)))
        return load_torch(path)

    def tag(self) -> str:
        """How log lines name this trial."""
        return f"[{self.experiment} seed {self.seed}]"

    def producer(self, path: Path) -> tuple[str, int] | None:
        """(method, round) of the round of this trial that writes ``path``, if it is one of the
        trial's rounds or one with a row (slimming's dense network)."""
        key = self.state.producer(path)
        if key is None or key in self.units() or self.state.has_row(*key):
            return key
        return None

    def undo(self, method: str, round_index: int, why: str) -> bool:
        """Make a finished round not done, so that it runs again; True if it is one of the
        trial's rounds (else its user makes it again, as slimming's dense network)."""
        self.state.delete_row(method, round_index)
        self.log(f"{self.tag()} redoing {method} round {round_index}: {why}")
        return (method, round_index) in self.units()

    def dense_mask(self) -> Mask:
        """A mask keeping every weight (a fresh copy: callers may keep it)."""
        return {name: keep.clone() for name, keep in self._dense.items()}

    def prune(self, weights: StateDict, mask: Mask) -> Mask:
        """One magnitude-pruning step with the experiment's rates and scope."""
        pruning = self.cfg["pruning"]
        return magnitude_prune(weights, mask, pruning["rates"], pruning["scope"], self.kinds,
                               count=pruning.get("global_count", "pool"),
                               output_in_pool=pruning.get("output_in_pool", False))

    def context(self, method: str) -> MethodContext:
        """What ``method`` sees of this trial: its settings, and handles on its own results and
        on those of the methods its catalogue line requires."""
        return MethodContext(self, self.settings, method, CATALOGUE[method].requires)

    def model_builder(self):
        """A function making the trial's model (architecture and device; weights get replaced)."""
        return lambda: self.build_model(self.seeds.init)

    def units(self) -> list[tuple[str, int]]:
        """Every (method, round) of the trial, in execution order."""
        return [(method, r) for method in execution_order(self.cfg["methods"])
                for r in self.methods[method].rounds(round_count(self.cfg))]

    def rows(self) -> list[dict]:
        return [self.state.load_row(method, r) for method, r in self.units()]


def execution_order(methods: list[str]) -> list[str]:
    """``methods`` with each one moved after the methods it requires."""
    ordered: list[str] = []

    def visit(method: str) -> None:
        for needed in required_methods(method):
            visit(needed)
        if method not in ordered:
            ordered.append(method)

    for method in methods:
        visit(method)
    return ordered


def run_trial(experiment: str, cfg: dict, seed: int, out: Path, **options) -> list[dict]:
    """Run (or resume) one trial; ``run_trials`` with one seed."""
    return run_trials(experiment, cfg, [seed], [out], **options)[0]


def run_trials(experiment: str, cfg: dict, seeds: list[int], outs: list[Path], *,
               device: torch.device, data_root: Path,
               after_round: Callable[[str, int], None] | None = None,
               log: Callable[[str], None] | None = None,
               progress: Callable[[str], None] | None = None, stack: bool = True,
               max_models: int | None = None) -> list[list[dict]]:
    """Run (or resume) every round of every method of each seed's trial, training side by side;
    returns each trial's rows in execution order.

    ``log`` gets the detail, ``progress`` one line per finished round with the time the job
    has left (both default to stderr). ``after_round(method, round)`` is called after each newly
    finished round; raising ``StopTrial`` from it ends the run early, as if killed there.
    """
    log = log or _to_stderr
    progress = progress or _to_stderr
    dataset = load_dataset(cfg["dataset"], data_root, device, seeds[0])  # the same for all seeds
    methods = load_methods(execution_order(cfg["methods"]))
    trials = [_open_trial(experiment, cfg, seed, Path(out), dataset, device, log, methods)
              for seed, out in zip(seeds, outs)]
    units = [Unit(trial, method, r) for trial in trials for method, r in trial.units()
             if not trial.state.has_row(method, r)]
    job = Progress(sum(len(trial.units()) for trial in trials))

    def finish(unit: Unit, outcome: tuple) -> None:
        row = _finish_round(unit, outcome)
        progress(f"{round_line(unit, row)} | {job.after_round(len(scheduler.units))}")
        if after_round is not None:
            after_round(unit.method, unit.round_index)

    scheduler = Scheduler(units, methods, finish, stack=stack, max_models=max_models)
    scheduler.run()
    return [trial.rows() for trial in trials]


def row_fields(rows: list[dict]) -> list[str]:
    """ROW_FIELDS, then any further metrics a method reports (lmc's barrier and path errors), in
    the order they first appear: experiments without such metrics keep exactly ROW_FIELDS."""
    extra = dict.fromkeys(key for row in rows for key in row if key not in ROW_FIELDS)
    return [*ROW_FIELDS, *extra]


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _open_trial(experiment: str, cfg: dict, seed: int, out: Path, dataset: Dataset,
                device: torch.device, log: Callable[[str], None],
                methods: dict[str, Method]) -> Trial:
    state = TrialState(out / "state")
    if state.claim(state_identity(experiment, cfg, seed, device)):
        log(f"[{experiment} seed {seed}] discarded {state.root}: made with other settings")
    trial = Trial(experiment, cfg, seed, dataset, state, device, log, methods)
    for method, round_index, why in state.discard_unreadable_rows():
        log(f"{trial.tag()} redoing {method} round {round_index}: {why}")
    trial.initial_weights()
    units = trial.units()
    done = sum(state.has_row(method, r) for method, r in units)
    if done:
        log(f"{trial.tag()} resuming: {done} of {len(units)} rounds already done")
    return trial


def _finish_round(unit: Unit, outcome: tuple[Mask, dict]) -> dict:
    """Save a finished round's mask and row (the row last: it marks the round done); the row."""
    trial, mask, metrics = unit.trial, *outcome
    # A method that changes the architecture (structured pruning) reports its own size.
    size = trial.size_metrics(mask)
    if "params" in metrics:
        counted = flops.Size(params=metrics["params"], flops=metrics["flops"])
        size = {"params": counted.params, "flops": counted.flops,
                **flops.ratios(trial.dense_size, counted)}
    row = {"method": unit.method, "seed": trial.seed, "round": unit.round_index,
           "density": density(mask), **metrics, **size}
    trial.state.save_mask(unit.method, unit.round_index, mask)
    trial.state.save_row(unit.method, unit.round_index, row)
    return row


def round_line(unit: Unit, row: dict) -> str:
    """Which round finished, what it reached and how long it took."""
    trial = unit.trial
    return (f"{trial.tag()} {unit.method} round {unit.round_index}/{round_count(trial.cfg)} "
            f"density {row['density']:.3f} test_acc {row['test_acc']:.3f} "
            f"({time.perf_counter() - unit.started:.1f}s)")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m experiments.trial", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--experiments-file", required=True, type=Path)
    parser.add_argument("--experiment", required=True)
    parser.add_argument("--seed", required=True, type=int, action="append", dest="seeds",
                        help="trial seed; repeat it to run several seeds side by side")
    parser.add_argument("--out", required=True,
                        help="output folder; with several seeds a pattern containing {seed}")
    parser.add_argument("--device", default="auto", help="auto (cuda if available), cpu, cuda")
    parser.add_argument("--data-root", default=Path("data"), type=Path)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--one-at-a-time", action="store_true",
                        help="train every network alone instead of stacking them")
    parser.add_argument("--max-models", type=int, default=None, metavar="N",
                        help="at most N networks per stack (default: as many as fit)")
    parser.add_argument("--stop-after-rounds", type=int, default=None, metavar="N",
                        help="stop (exit 3) after N newly finished rounds; rerun to resume")
    parser.add_argument("--log", type=Path, default=None, metavar="FILE",
                        help="the full log goes to FILE; stderr gets one line per finished "
                             "round, and errors (default: everything on stderr)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console("trial")
    return guarded(console, lambda: _run(args, console), BAD_INPUT_ERRORS, EXIT_BAD_INPUT)


def _run(args: argparse.Namespace, console: Console) -> int:
    started = time.perf_counter()
    cfg = experiment_config(args.experiments_file, args.experiment)
    device, outs = _check_args(args)
    console.open_log(args.log)  # only now: a refused command writes nothing
    configure_torch(device, args.threads)
    try:
        rows = run_trials(args.experiment, cfg, args.seeds, outs, device=device,
                          data_root=args.data_root, after_round=_stopper(args.stop_after_rounds),
                          log=console.log, progress=console.progress,
                          stack=not args.one_at_a_time, max_models=args.max_models)
    except StopTrial as stop:
        console.progress(f"trial: {stop}; rerun the same command to resume")
        return EXIT_STOPPED
    except UnitDiverged as err:
        console.error(diverged_message(err, args.experiments_file))
        return EXIT_BAD_INPUT
    wall_time_s = time.perf_counter() - started
    for seed, out, seed_rows in zip(args.seeds, outs, rows):
        provenance = _provenance(args, cfg, seed, device, wall_time_s)
        # Both or neither; rounds.csv, the declared output, is moved into place last.
        atomic.write_all([(out / "provenance.json", atomic.json_bytes(provenance)),
                          (out / "rounds.csv", atomic.csv_bytes(seed_rows,
                                                                 row_fields(seed_rows)))])
    return 0


def diverged_message(err: UnitDiverged, experiments_file: Path) -> str:
    """Which network diverged, when, and the setting to change."""
    unit, cause = err.unit, err.error
    setting = unit.trial.methods[unit.method].lr_setting
    section, _, key = setting.partition(".")
    value = unit.trial.cfg.get(section, {}).get(key)
    now = f" (now {value})" if value is not None else ""
    return (f"{experiments_file}: experiment {unit.trial.experiment}, method {unit.method}, "
            f"seed {unit.trial.seed}, round {unit.round_index}: training diverged at iteration "
            f"{cause.iteration} (validation loss {cause.val_loss}); lower {setting}{now}")


def _check_args(args: argparse.Namespace) -> tuple[torch.device, list[Path]]:
    """The resolved device and each seed's output folder; TrialError for a bad seed, thread
    count, stack size, output pattern or device."""
    for seed in args.seeds:
        if seed < 0:
            raise TrialError(f"--seed must be >= 0, got {seed}")
    if len(set(args.seeds)) != len(args.seeds):
        raise TrialError(f"--seed given twice: {args.seeds}")
    for option in ("threads", "max_models", "stop_after_rounds"):
        value = getattr(args, option)
        if value is not None and value < 1:
            raise TrialError(f"--{option.replace('_', '-')} must be >= 1, got {value}")
    if len(args.seeds) > 1 and "{seed}" not in args.out:
        raise TrialError(f"--out {args.out}: several seeds need a pattern containing {{seed}}")
    outs = [Path(args.out.replace("{seed}", str(seed))) for seed in args.seeds]
    try:
        return resolve_device(args.device), outs
    except (ValueError, RuntimeError) as err:
        raise TrialError(f"--device {args.device}: {err}") from None


def _stopper(limit: int | None) -> Callable[[str, int], None] | None:
    if limit is None:
        return None
    finished = []

    def after_round(method: str, round_index: int) -> None:
        finished.append((method, round_index))
        if len(finished) >= limit:
            raise StopTrial(f"stopped after {limit} rounds as asked (last: {method} {round_index})")

    return after_round


def _provenance(args: argparse.Namespace, cfg: dict, seed: int, device: torch.device,
                wall_time_s: float) -> dict:
    block = collect_provenance(experiment=args.experiment, rule="trial",
                               config_file=str(args.experiments_file), config=cfg,
                               seeds=[seed], device=str(device), wall_time_s=wall_time_s)
    block["trained_with_seeds"] = args.seeds  # the wall time is that of the whole run
    return block


if __name__ == "__main__":
    sys.exit(main())
