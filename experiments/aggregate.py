"""Aggregate the per-seed ``rounds.csv`` of one experiment into one table and the quoted numbers.

Command line (the ``aggregate`` rule calls it)::

    python -m experiments.aggregate --experiments-file F --experiment E --out results/E \
        results/E/seeds/*/rounds.csv

writes ``results/E/rounds.csv`` (every input row, sorted by method, seed, round) and
``results/E/summary.json``.  Every statistic is an object ``{"mean", "std", "n"}`` over seeds,
where ``std`` is the sample standard deviation (ddof=1) and is ``null`` when ``n`` is 1.
``summary.json``, whose keys contain no dots so that chapters can quote ``E.key.path``::

    {"experiment": E, "seeds": [0, 1, 2], "n_seeds": 3,
     "dense": {"density": 1.0, "test_acc": STAT, "val_acc": STAT,
               "early_stop_iter": STAT, "final_test_acc": STAT},
     "methods": {METHOD: {"rounds": [{"round": 0, "density": 1.0, "n": 3,
                                      "test_acc": STAT, ..., "final_test_acc": STAT}, ...]}},
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
from collections import Counter
from pathlib import Path

from experiments.atomic import write_text
from experiments.config import ConfigError, config_hash, experiment_config
from experiments.provenance import collect_provenance

REQUIRED_COLUMNS = ("method", "seed", "round", "density", "test_acc", "val_acc",
                    "early_stop_iter", "final_test_acc")
INT_COLUMNS = ("seed", "round", "early_stop_iter")
FLOAT_COLUMNS = ("density", "test_acc", "val_acc", "final_test_acc")
METRICS = ("test_acc", "val_acc", "early_stop_iter", "final_test_acc")
DENSE_METHOD = "imp"
# Densities this far (as a ratio) beyond a method's range are not "near" a reported target.
AT_DENSITY_TOLERANCE = 1.1
# Experiment keys that change what is reported or drawn, not what a trial computes.
REPORT_KEYS = ("report_densities",)
PRESENTATION_KEYS = ("description", "figures")
MATCHING_RULE = "mean test_acc >= dense mean test_acc - dense std test_acc (std 0 for one seed)"


class AggregateError(Exception):
    """Bad input to aggregation; the message is one line that names the offending file."""


def _parse_int(text: str) -> int:
    """An integer written as ``12`` or ``12.0`` (pandas writes the latter for integer floats)."""
    value = float(text)
    if not value.is_integer():
        raise ValueError(f"not an integer: {text!r}")
    return int(value)


def _typed_row(raw: dict, path: Path, line: int) -> dict:
    """One CSV row with the required columns parsed; extra columns are kept as text."""
    if None in raw or None in raw.values():
        raise AggregateError(f"{path}:{line}: row length differs from the header")
    row = dict(raw)
    try:
        for column in INT_COLUMNS:
            row[column] = _parse_int(raw[column])
        for column in FLOAT_COLUMNS:
            row[column] = float(raw[column])
            if not math.isfinite(row[column]):
                raise ValueError(f"{column} is {raw[column]!r}")
    except (TypeError, ValueError) as error:
        raise AggregateError(f"{path}:{line}: bad value ({error})") from None
    if not 0.0 < row["density"] <= 1.0:
        raise AggregateError(f"{path}:{line}: density {row['density']} is outside (0, 1]")
    return row


def read_rounds(path: Path | str) -> tuple[list[str], list[dict]]:
    """Column names and typed rows of one rounds.csv; errors name the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise AggregateError(f"{path}: cannot read ({error.strerror})") from None
    reader = csv.DictReader(io.StringIO(text))
    columns = list(reader.fieldnames or [])
    if not columns:
        raise AggregateError(f"{path}: empty file, expected a header and rows")
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    if missing:
        raise AggregateError(f"{path}: missing column(s) {', '.join(missing)}")
    rows = [_typed_row(raw, path, reader.line_num) for raw in reader]
    if not rows:
        raise AggregateError(f"{path}: no rows after the header")
    return columns, rows


def seed_of_file(path: Path, rows: list[dict], expected_seeds: list[int]) -> int:
    """The one seed that all rows of ``path`` share, checked against its folder and the config."""
    seeds = sorted({row["seed"] for row in rows})
    if len(seeds) != 1:
        raise AggregateError(f"{path}: rows of several seeds {seeds}, expected one per file")
    seed = seeds[0]
    folder = path.parent.name
    if folder.isdigit() and int(folder) != seed:
        raise AggregateError(f"{path}: rows are seed {seed} but the file is under seed {folder}")
    if seed not in expected_seeds:
        raise AggregateError(f"{path}: seed {seed} is not among the experiment's seeds "
                             f"{expected_seeds}")
    return seed


def check_methods(path: Path, rows: list[dict], methods: list[str]) -> None:
    """Every configured method, and no other, appears in one seed's file."""
    found = {row["method"] for row in rows}
    unknown = sorted(found - set(methods))
    if unknown:
        raise AggregateError(f"{path}: method(s) {', '.join(unknown)} not in the experiment's "
                             f"methods {methods}")
    absent = [method for method in methods if method not in found]
    if absent:
        raise AggregateError(f"{path}: no rows for method(s) {', '.join(absent)}")


def combine(paths: list[Path], seeds: list[int],
            methods: list[str]) -> tuple[list[str], list[dict]]:
    """All rows of the per-seed files, checked and sorted by (method, seed, round).

    Every file must have the columns and the (method, round) pairs of the first: seeds that
    ran different rounds would make the per-round means average different things.
    """
    first_columns, first_rows = read_rounds(paths[0])
    rows: list[dict] = []
    files_of_seed: dict[int, Path] = {}
    for path in paths:
        columns, file_rows = (first_columns, first_rows) if path == paths[0] else read_rounds(path)
        if set(columns) != set(first_columns):
            raise AggregateError(f"{path}: columns differ from those of {paths[0]}")
        seed = seed_of_file(path, file_rows, seeds)
        if seed in files_of_seed:
            raise AggregateError(f"{path}: seed {seed} already read from {files_of_seed[seed]}")
        files_of_seed[seed] = path
        check_methods(path, file_rows, methods)
        check_rounds(path, file_rows, first_rows, paths[0])
        rows.extend(file_rows)
    absent = [seed for seed in seeds if seed not in files_of_seed]
    if absent:
        raise AggregateError(f"{paths[0].parent.parent}: no rounds.csv given for seed(s) {absent}")
    rows.sort(key=lambda row: (row["method"], row["seed"], row["round"]))
    return first_columns, rows


def check_rounds(path: Path, rows: list[dict], reference_rows: list[dict],
                 reference: Path) -> None:
    """Each (method, round) appears once, and the same pairs as in the reference file."""
    pairs = Counter((row["method"], row["round"]) for row in rows)
    repeated = sorted(pair for pair, count in pairs.items() if count > 1)
    if repeated:
        method, round_index = repeated[0]
        raise AggregateError(f"{path}: method {method} round {round_index} appears twice")
    expected = {(row["method"], row["round"]) for row in reference_rows}
    differing = sorted(set(pairs) ^ expected)
    if differing:
        method, round_index = differing[0]
        raise AggregateError(f"{path}: rounds differ from {reference} "
                             f"(first: method {method} round {round_index})")


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
        entries.append(entry)
    return entries


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


def trial_settings(cfg: dict) -> dict:
    """The part of an experiment config that a trial's results depend on."""
    return {key: value for key, value in cfg.items()
            if key not in REPORT_KEYS + PRESENTATION_KEYS}


def summary_settings(cfg: dict) -> dict:
    """The part of an experiment config that summary.json depends on (all but presentation)."""
    return {key: value for key, value in cfg.items() if key not in PRESENTATION_KEYS}


def read_trial_provenance(rounds_paths: list[Path], cfg: dict) -> list[dict]:
    """The provenance.json the trial wrote beside each rounds.csv (absent ones are skipped).

    A trial run under other trial settings than the current config's is an error: its rows
    would be summarised as if they belonged to this config.  Report and figure keys may differ.
    """
    expected = trial_settings(cfg)
    blocks = []
    for rounds_path in rounds_paths:
        path = rounds_path.parent / "provenance.json"
        if not path.exists():
            continue
        block = _load_trial_block(path)
        if trial_settings(block["config"]) != expected:
            raise AggregateError(f"{path}: trial ran with other settings than the current "
                                 f"config ({config_hash(trial_settings(block['config']))}, now "
                                 f"{config_hash(expected)}); rerun the trial")
        blocks.append(block)
    return blocks


def _load_trial_block(path: Path) -> dict:
    """One trial provenance block, checked to hold the keys aggregation reads."""
    try:
        block = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise AggregateError(f"{path}: unreadable trial provenance ({error})") from None
    if not isinstance(block, dict) or not isinstance(block.get("config"), dict) \
            or "device" not in block:
        raise AggregateError(f"{path}: trial provenance lacks 'config' or 'device'")
    return block


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
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> None:
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
    write_text(args.out / "rounds.csv", rounds_csv_text(columns, rows))
    write_text(args.out / "summary.json", json.dumps(summary, indent=2, allow_nan=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        run(args)
    except (AggregateError, ConfigError) as error:
        print(f"aggregate: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
