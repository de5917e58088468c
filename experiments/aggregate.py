"""Aggregate the per-seed ``rounds.csv`` of one experiment into one table and the quoted numbers.

Command line (the ``aggregate`` rule calls it)::

    python -m experiments.aggregate --experiments-file F --experiment E --out results/E \
        [--log FILE] results/E/seeds/*/rounds.csv

writes ``results/E/rounds.csv`` (every input row, sorted by method, seed, round) and
``results/E/summary.json``.  Every statistic is an object ``{"mean", "std", "n"}`` over seeds,
where ``std`` is the sample standard deviation (ddof=1) and is ``null`` when ``n`` is 1.
``summary.json``, whose keys contain no dots so that chapters can quote ``E.key.path``::

    {"experiment": E, "seeds": [0, 1, 2], "n_seeds": 3,
     "dense": {"density": 1.0, "test_acc": STAT, "val_acc": STAT,
               "early_stop_iter": STAT, "final_test_acc": STAT},
     "methods": {METHOD: {"rounds": [{"round": 0, "density": 1.0, "n": 3,
                                      "test_acc": STAT, ..., "final_test_acc": STAT,
                                      "params": STAT, "flops": STAT, "compression": STAT,
                                      "speedup": STAT}, ...]}},
     "at_density": {"10pct": {"target_density": 0.1,
                              METHOD: {"round": 10, "density": 0.107, "n": 3,
                                       "test_acc": STAT, ...} or null}},
     "matching_threshold": {"test_acc": 0.97, "rule": "..."},
     "smallest_matching_density": {METHOD: 0.107 or null},
     "trial_wall_time_s": STAT or null,
     "provenance": {...}}

Rules the numbers follow:

* The dense network of a seed is its round-0 row at density 1.0 of ``imp`` (the other methods'
  round-0 rows are used only when an experiment runs no ``imp``).
* A round's ``density`` is the mean over seeds of the density reached in that round.
* Metrics only some methods report (``OPTIONAL_METRICS``: lmc's barrier, ticket_anatomy's
  measurements; columns starting with ``OPTIONAL_PREFIXES``: the deep-compression stages) are
  summarised where every seed has them; where rows carry a first-layer input
  profile (``in_pos_P``), ``profile_corr`` is its Pearson correlation over every pair of seeds.
* ``at_density`` keys come from the experiment's ``report_densities`` as a percentage with any
  decimal point written ``p`` (0.1 -> ``10pct``, 0.035 -> ``3p5pct``).  For each method the round
  whose density is nearest the target on a log scale is reported; a method whose densities do not
  reach within a factor 1.1 of the target is ``null`` rather than a misleading far-off round.
* A pruned round (density < 1) is *matching* when its mean test accuracy is at least the dense
  mean test accuracy minus one dense standard deviation (minus nothing when there is one seed).
  ``smallest_matching_density`` is the smallest density of a matching round, ``null`` if none.
* The trials' own ``provenance.json`` (beside each rounds.csv) gives ``trial_wall_time_s``
  (``null`` unless every seed has one) and the ``device`` of this summary's provenance block
  (comma-separated if the seeds ran on different devices, ``unknown`` without any).  A trial
  that ran with other trial settings (every key but description, report_densities and
  figures) than the current experiment config is an error.

Bad input (missing column, empty file, unparsable value, rows of a seed other than the file's,
a seed or method that does not match the experiment, a stale trial) stops with a one-line
error naming the file.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import statistics
import sys
import time
from pathlib import Path

from experiments.atomic import write_all
from experiments.console import Console, guarded
from experiments.config import ConfigError, experiment_config
from experiments.provenance import collect_provenance
from experiments.rounds import AggregateError, combine, read_trial_provenance

METRICS = ("test_acc", "val_acc", "early_stop_iter", "final_test_acc", "params", "flops",
           "compression", "speedup")
# Metrics only some methods report: lmc's barrier, ticket_anatomy's measurements of the masks.
OPTIONAL_METRICS = ("barrier", "first_density", "neighbour_kept", "neighbour_chance",
                    "oneshot_overlap", "overlap_chance", "kept_init_mag", "pruned_init_mag",
                    "kept_sign_kept", "pruned_sign_kept")
# Early-bird's draw point and the sparse methods' training compute (a fraction of dense training).
OPTIONAL_METRICS += ("eb_iteration", "eb_found", "train_cost", "imp_train_cost")
# The structured methods' measure of what the last tenth of a budget bought.
OPTIONAL_METRICS += ("late_val_loss_gain", "late_test_acc_gain")
PROFILE_PREFIX = "in_pos_"  # ticket_anatomy's first-layer profile over input positions
# Column families only some methods report, summarised like OPTIONAL_METRICS: the deep-compression
# methods' stage sizes and accuracies (experiments/compression/stages.py).
OPTIONAL_PREFIXES = ("dc_",)
DENSE_METHOD = "imp"
# Densities this far (as a ratio) beyond a method's range are not "near" a reported target.
AT_DENSITY_TOLERANCE = 1.1
MATCHING_RULE = "mean test_acc >= dense mean test_acc - dense std test_acc (std 0 for one seed)"


def stat(values: list[float]) -> dict:
    """Mean, sample standard deviation (ddof=1; null for one value) and count."""
    n = len(values)
    return {
        "mean": statistics.fmean(values),
        "std": statistics.stdev(values) if n > 1 else None,
        "n": n,
    }


def group_rounds(rows: list[dict], method: str) -> list[dict]:
    """Per-round summary entries of one method, in round order."""
    by_round: dict[int, list[dict]] = {}
    for row in rows:
        if row["method"] == method:
            by_round.setdefault(row["round"], []).append(row)
    entries = []
    for round_index in sorted(by_round):
        group = by_round[round_index]
        entry = {"round": round_index,
                 "density": statistics.fmean(row["density"] for row in group),
                 "n": len(group)}
        entry.update({metric: stat([row[metric] for row in group]) for metric in METRICS})
        # Metrics only some methods report (lmc's barrier), where every seed has them.
        for metric in OPTIONAL_METRICS + prefixed_columns(group):
            if all(row.get(metric) not in (None, "") for row in group):
                entry[metric] = stat([float(row[metric]) for row in group])
        correlation = profile_correlation(group)
        if correlation is not None:
            entry["profile_corr"] = correlation
        entries.append(entry)
    return entries


def prefixed_columns(group: list[dict]) -> tuple[str, ...]:
    """The columns of ``group``'s rows that start with one of ``OPTIONAL_PREFIXES``."""
    return tuple(column for column in group[0] if column.startswith(OPTIONAL_PREFIXES))


def profile_correlation(group: list[dict]) -> dict | None:
    """Pearson correlation of the first-layer input profiles (``in_pos_P``) of every pair of
    seeds, as a statistic over the pairs: do the seeds' tickets keep the same input positions?
    None without profiles, with fewer than two seeds, or where a profile is constant."""
    columns = sorted((c for c in group[0] if c.startswith(PROFILE_PREFIX)),
                     key=lambda c: int(c[len(PROFILE_PREFIX):]))
    if not columns or len(group) < 2 or any(row.get(columns[0]) in (None, "") for row in group):
        return None
    profiles = [[float(row[c]) for c in columns] for row in group]
    try:
        pairs = [statistics.correlation(a, b) for i, a in enumerate(profiles)
                 for b in profiles[i + 1:]]
    except statistics.StatisticsError:  # a constant profile (dense round) has no correlation
        return None
    return stat(pairs)


def dense_rows(rows: list[dict], methods: list[str], source: Path) -> list[dict]:
    """One dense (round 0, density 1) row per seed, preferring imp's."""
    preference = [DENSE_METHOD] + [m for m in methods if m != DENSE_METHOD]
    chosen: dict[int, dict] = {}
    for method in preference:
        for row in rows:
            is_dense = row["method"] == method and row["round"] == 0 and row["density"] == 1.0
            if is_dense and row["seed"] not in chosen:
                chosen[row["seed"]] = row
    seeds = sorted({row["seed"] for row in rows})
    absent = [seed for seed in seeds if seed not in chosen]
    if absent:
        raise AggregateError(f"{source}: no dense row (round 0, density 1.0) for seed(s) {absent}")
    return [chosen[seed] for seed in seeds]


def density_key(density: float) -> str:
    """A path-friendly key for a target density: 0.1 -> '10pct', 0.035 -> '3p5pct'."""
    percent = f"{density * 100:.6g}"
    return percent.replace(".", "p") + "pct"


def nearest_round(entries: list[dict], target: float) -> dict | None:
    """The round whose density is nearest ``target`` on a log scale, or None when out of range."""
    densities = [entry["density"] for entry in entries]
    lowest, highest = min(densities), max(densities)
    if not lowest / AT_DENSITY_TOLERANCE <= target <= highest * AT_DENSITY_TOLERANCE:
        return None
    return min(entries, key=lambda entry: abs(math.log(entry["density"] / target)))


def at_density(method_rounds: dict[str, list[dict]], targets: list[float]) -> dict:
    """The ``at_density`` block: per target, each method's nearest round."""
    block = {}
    for target in targets:
        entry: dict = {"target_density": target}
        for method, rounds in method_rounds.items():
            entry[method] = nearest_round(rounds, target)
        block[density_key(target)] = entry
    return block


def smallest_matching(rounds: list[dict], threshold: float) -> float | None:
    """Smallest density < 1 whose mean test accuracy reaches ``threshold``; None if none does."""
    matching = [entry["density"] for entry in rounds
                if entry["density"] < 1.0 and entry["test_acc"]["mean"] >= threshold]
    return min(matching) if matching else None


def summarize(rows: list[dict], experiment: str, cfg: dict, source: Path) -> dict:
    """The summary.json content (without provenance) for the combined rows of one experiment."""
    methods = list(cfg["methods"])
    dense = dense_rows(rows, methods, source)
    dense_block = {"density": 1.0}
    dense_block.update({metric: stat([row[metric] for row in dense]) for metric in METRICS})
    dense_acc = dense_block["test_acc"]
    threshold = dense_acc["mean"] - (dense_acc["std"] or 0.0)
    method_rounds = {method: group_rounds(rows, method) for method in methods}
    seeds = sorted({row["seed"] for row in rows})
    return {
        "experiment": experiment,
        "seeds": seeds,
        "n_seeds": len(seeds),
        "dense": dense_block,
        "methods": {method: {"rounds": rounds} for method, rounds in method_rounds.items()},
        "at_density": at_density(method_rounds, list(cfg.get("report_densities", []))),
        "matching_threshold": {"test_acc": threshold, "rule": MATCHING_RULE},
        "smallest_matching_density": {method: smallest_matching(rounds, threshold)
                                      for method, rounds in method_rounds.items()},
    }


def rounds_csv_text(columns: list[str], rows: list[dict]) -> str:
    """The combined table as CSV text, columns in the order of the first input file."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def trial_devices(blocks: list[dict]) -> str:
    """The device(s) the trials ran on, comma-separated when they differ; "unknown" if none."""
    return ",".join(sorted({str(block["device"]) for block in blocks})) or "unknown"


def trial_wall_time(blocks: list[dict], n_seeds: int) -> dict | None:
    """Statistics of the trials' wall times; None unless every seed recorded one."""
    times = [block.get("wall_time_s") for block in blocks]
    if len(times) != n_seeds or not all(isinstance(t, (int, float)) for t in times):
        return None
    return stat([float(t) for t in times])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m experiments.aggregate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--experiments-file", required=True, type=Path)
    parser.add_argument("--experiment", required=True)
    parser.add_argument("--out", required=True, type=Path,
                        help="folder for rounds.csv and summary.json")
    parser.add_argument("rounds", nargs="+", type=Path, help="per-seed rounds.csv files")
    parser.add_argument("--log", type=Path, default=None, metavar="FILE",
                        help="detail goes to FILE; stderr gets errors only")
    return parser.parse_args(argv)


def run(args: argparse.Namespace, log=lambda line: None) -> None:
    """Read, check, combine and write; raises AggregateError or ConfigError on bad input."""
    started = time.monotonic()
    cfg = experiment_config(args.experiments_file, args.experiment)
    seeds = [int(seed) for seed in cfg["seeds"]]
    columns, rows = combine(args.rounds, seeds, list(cfg["methods"]))
    trials = read_trial_provenance(args.rounds, cfg)
    summary = summarize(rows, args.experiment, cfg, args.rounds[0])
    summary["trial_wall_time_s"] = trial_wall_time(trials, len(seeds))
    summary["provenance"] = collect_provenance(
        experiment=args.experiment, rule="aggregate", config_file=str(args.experiments_file),
        config=cfg, seeds=seeds, device=trial_devices(trials),
        wall_time_s=time.monotonic() - started)
    # Both or neither: a summary never sits beside the rows of another run.
    write_all([(args.out / "rounds.csv", rounds_csv_text(columns, rows).encode("utf-8")),
               (args.out / "summary.json",
                (json.dumps(summary, indent=2, allow_nan=False) + "\n").encode("utf-8"))])
    log(f"aggregate: {len(rows)} rows of {len(args.rounds)} seed file(s) -> "
        f"{args.out / 'rounds.csv'}, {args.out / 'summary.json'}")


def main(argv: list[str] | None = None) -> int:
    """Exit status 0 done, 1 bad input or a file that cannot be read or written (one line)."""
    args = parse_args(argv)
    console = Console("aggregate")

    def body() -> int:
        console.open_log(args.log)
        run(args, console.log)
        return 0

    return guarded(console, body, (AggregateError, ConfigError), 1)


if __name__ == "__main__":
    sys.exit(main())
