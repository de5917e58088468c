"""Reading and checking what each trial left in its seed folder, for aggregation.

``read_rounds`` reads one per-seed ``rounds.csv`` into typed rows; ``combine`` reads them all and
checks that they fit together and fit the experiment (one seed per file, the configured seeds and
methods, the same (method, round) pairs in every file).  ``read_trial_provenance`` reads the
``provenance.json`` beside each file and refuses a trial run under other trial settings than the
current config.  Every error is an ``AggregateError`` whose one-line message names the file.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter
from pathlib import Path

from experiments.config import config_hash, trial_settings

REQUIRED_COLUMNS = ("method", "seed", "round", "density", "test_acc", "val_acc",
                    "early_stop_iter", "final_test_acc", "params", "flops", "compression",
                    "speedup")
INT_COLUMNS = ("seed", "round", "early_stop_iter", "params", "flops")
FLOAT_COLUMNS = ("density", "test_acc", "val_acc", "final_test_acc", "compression", "speedup")


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

