"""Aggregation of per-seed rounds.csv files: combined table, summary numbers (checked by hand)
and one-line errors naming the bad file."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from experiments.aggregate import density_key, main
from experiments.config import experiment_config

EXPERIMENT_SET = """\
experiments:
  tiny:
    dataset: {name: mnist1d, validation: 100}
    model: {name: mlp, hidden: [16]}
    training: {optimizer: sgd, lr: 0.1, batch_size: 32, iterations: 10, eval_every: 5}
    pruning: {rates: {linear: 0.5, output: 0.5}, rounds: 2}
    methods: [imp, oneshot]
    seeds: [0, 1]
    report_densities: [0.5, 0.3, 0.1]
"""
COLUMNS = ["method", "seed", "round", "density", "test_acc", "val_acc", "early_stop_iter",
           "final_test_acc", "params", "flops", "compression", "speedup"]
# (method, round, density, test_acc, early_stop_iter) per seed; val_acc = test_acc + 0.01 and
# final_test_acc = test_acc - 0.01 throughout.
TRIALS = {
    0: [("imp", 0, 1.0, 0.90, 100), ("imp", 1, 0.5, 0.92, 80), ("imp", 2, 0.25, 0.80, 60),
        ("oneshot", 0, 1.0, 0.90, 100), ("oneshot", 1, 0.5, 0.88, 90),
        ("oneshot", 2, 0.25, 0.70, 120)],
    1: [("imp", 0, 1.0, 0.94, 120), ("imp", 1, 0.5, 0.90, 100), ("imp", 2, 0.25, 0.84, 80),
        ("oneshot", 0, 1.0, 0.94, 120), ("oneshot", 1, 0.5, 0.86, 110),
        ("oneshot", 2, 0.25, 0.74, 100)],
}
SQRT2 = math.sqrt(2)


def size_columns(density: float, dense_params: int = 1000) -> dict:
    """params and flops that shrink with the density, and their ratios to the dense ones."""
    params = round(dense_params * density)
    return {"params": params, "flops": params, "compression": dense_params / params,
            "speedup": dense_params / params}


def write_rounds(path: Path, seed: int, rows, columns=COLUMNS) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for method, round_index, density, acc, stop in rows:
            record = {"method": method, "seed": seed, "round": round_index, "density": density,
                      "test_acc": acc, "val_acc": acc + 0.01, "early_stop_iter": stop,
                      "final_test_acc": acc - 0.01, **size_columns(density)}
            writer.writerow([record[column] for column in columns])
    return path


@pytest.fixture
def experiment(tmp_path: Path) -> dict:
    """An experiment set file and one rounds.csv per seed under results/tiny/seeds/SEED/."""
    config = tmp_path / "set.yaml"
    config.write_text(EXPERIMENT_SET)
    results = tmp_path / "results" / "tiny"
    files = [write_rounds(results / "seeds" / str(seed) / "rounds.csv", seed, rows)
             for seed, rows in TRIALS.items()]
    for path, wall_time in zip(files, (30.0, 50.0)):
        write_trial_provenance(path, experiment_config(config, "tiny"), wall_time)
    return {"config": config, "results": results, "files": files}


def write_trial_provenance(rounds_csv: Path, cfg: dict, wall_time: float) -> Path:
    """The part of a trial's provenance.json that aggregation reads."""
    path = rounds_csv.parent / "provenance.json"
    path.write_text(json.dumps({"rule": "trial", "config": cfg, "device": "cpu",
                                "wall_time_s": wall_time}))
    return path


def aggregate(experiment: dict, files=None) -> int:
    files = experiment["files"] if files is None else files
    return main(["--experiments-file", str(experiment["config"]), "--experiment", "tiny",
                 "--out", str(experiment["results"]),
                 *[str(path) for path in files]])


def summary_of(experiment: dict) -> dict:
    assert aggregate(experiment) == 0
    return json.loads((experiment["results"] / "summary.json").read_text())


def test_combined_table_holds_every_row_sorted_by_method_seed_round(experiment):
    assert aggregate(experiment, list(reversed(experiment["files"]))) == 0
    with (experiment["results"] / "rounds.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == COLUMNS
    keys = [(row["method"], int(row["seed"]), int(row["round"])) for row in rows]
    assert keys == sorted(keys) and len(keys) == 12
    assert rows[0]["test_acc"] == "0.9" and rows[-1]["early_stop_iter"] == "100"


def test_dense_statistics_are_mean_and_sample_std_over_seeds(experiment):
    dense = summary_of(experiment)["dense"]
    assert dense["test_acc"]["mean"] == pytest.approx(0.92)
    assert dense["test_acc"]["std"] == pytest.approx(0.02 * SQRT2)  # ddof=1 over 0.90, 0.94
    assert dense["test_acc"]["n"] == 2
    assert dense["early_stop_iter"] == pytest.approx({"mean": 110, "std": 10 * SQRT2, "n": 2})
    assert dense["val_acc"]["mean"] == pytest.approx(0.93)
    assert dense["final_test_acc"]["mean"] == pytest.approx(0.91)


def test_per_round_statistics_of_each_method(experiment):
    summary = summary_of(experiment)
    assert summary["seeds"] == [0, 1] and summary["n_seeds"] == 2
    imp = summary["methods"]["imp"]["rounds"]
    assert [entry["round"] for entry in imp] == [0, 1, 2]
    assert [entry["density"] for entry in imp] == [1.0, 0.5, 0.25]
    assert imp[2]["test_acc"] == pytest.approx({"mean": 0.82, "std": 0.02 * SQRT2, "n": 2})
    oneshot = summary["methods"]["oneshot"]["rounds"]
    assert oneshot[1]["early_stop_iter"] == pytest.approx({"mean": 100, "std": 10 * SQRT2,
                                                           "n": 2})


def test_at_density_takes_the_nearest_round_on_a_log_scale(experiment):
    at = summary_of(experiment)["at_density"]
    assert list(at) == ["50pct", "30pct", "10pct"]
    assert at["50pct"]["target_density"] == 0.5
    assert at["50pct"]["imp"]["round"] == 1
    # 0.3 is nearer 0.25 than 0.5 on a log scale (ratio 1.2 against 1.67).
    assert at["30pct"]["oneshot"]["round"] == 2
    assert at["30pct"]["oneshot"]["test_acc"]["mean"] == pytest.approx(0.72)
    # Pruning stopped at 25%: a 10% figure would be a misquote, so it is null.
    assert at["10pct"]["imp"] is None and at["10pct"]["oneshot"] is None


def test_smallest_matching_density_uses_dense_mean_minus_one_std(experiment):
    summary = summary_of(experiment)
    threshold = 0.92 - 0.02 * SQRT2  # 0.8917: imp's 0.91 at 50% matches, oneshot's 0.87 not
    assert summary["matching_threshold"]["test_acc"] == pytest.approx(threshold)
    assert summary["smallest_matching_density"] == {"imp": 0.5, "oneshot": None}


def test_keys_have_no_dots_and_provenance_is_attached(experiment):
    summary = summary_of(experiment)

    def keys(value):
        if isinstance(value, dict):
            for key, inner in value.items():
                yield key
                if key != "config":  # the experiment config is quoted verbatim
                    yield from keys(inner)
        elif isinstance(value, list):
            for inner in value:
                yield from keys(inner)

    assert not [key for key in keys(summary) if "." in key]
    provenance = summary["provenance"]
    assert provenance["rule"] == "aggregate" and provenance["experiment"] == "tiny"
    assert provenance["device"] == "cpu" and provenance["seeds"] == [0, 1]
    assert provenance["config"]["methods"] == ["imp", "oneshot"]


def test_one_seed_has_null_std(experiment):
    experiment["config"].write_text(EXPERIMENT_SET.replace("seeds: [0, 1]", "seeds: [0]"))
    write_trial_provenance(experiment["files"][0],
                           experiment_config(experiment["config"], "tiny"), 30.0)
    assert aggregate(experiment, experiment["files"][:1]) == 0
    summary = json.loads((experiment["results"] / "summary.json").read_text())
    assert summary["dense"]["test_acc"] == {"mean": 0.9, "std": None, "n": 1}
    # With one seed the threshold is the dense mean itself: imp's 0.92 at 50% matches.
    assert summary["smallest_matching_density"]["imp"] == 0.5


def test_trial_provenance_gives_device_and_wall_time(experiment):
    summary = summary_of(experiment)
    assert summary["provenance"]["device"] == "cpu"
    assert summary["trial_wall_time_s"] == pytest.approx({"mean": 40.0, "std": 10 * SQRT2,
                                                          "n": 2})


def test_without_trial_provenance_device_is_unknown(experiment):
    for path in experiment["files"]:
        (path.parent / "provenance.json").unlink()
    summary = summary_of(experiment)
    assert summary["provenance"]["device"] == "unknown"
    assert summary["trial_wall_time_s"] is None


def test_trial_of_other_training_settings_is_an_error(experiment, capsys):
    cfg = experiment_config(experiment["config"], "tiny")
    cfg["training"]["lr"] = 0.5
    stale = write_trial_provenance(experiment["files"][1], cfg, 1.0)
    expect_error(experiment, capsys, None, str(stale), "rerun the trial")


def test_trial_with_other_report_densities_or_figures_is_still_current(experiment):
    cfg = experiment_config(experiment["config"], "tiny")
    cfg["report_densities"], cfg["figures"] = [0.9], {"f": {"kind": "accuracy_vs_density"}}
    write_trial_provenance(experiment["files"][1], cfg, 50.0)
    assert aggregate(experiment) == 0


def test_unreadable_trial_provenance_names_the_file(experiment, capsys):
    path = experiment["files"][0].parent / "provenance.json"
    path.write_text("{not json")
    expect_error(experiment, capsys, None, str(path), "unreadable trial provenance")


@pytest.mark.parametrize("key, density", [("10pct", 0.1), ("50pct", 0.5), ("3p5pct", 0.035),
                                          ("100pct", 1.0), ("0p1pct", 0.001)])
def test_density_keys_are_path_friendly(key, density):
    assert density_key(density) == key


def expect_error(experiment, capsys, files, *fragments):
    assert aggregate(experiment, files) == 1
    message = capsys.readouterr().err
    assert message.count("\n") == 1, message
    for fragment in fragments:
        assert fragment in message
    assert not (experiment["results"] / "summary.json").exists()


def test_missing_column_names_the_file(experiment, capsys):
    bad = write_rounds(experiment["files"][0], 0, TRIALS[0], COLUMNS[:-1])
    expect_error(experiment, capsys, None, str(bad), "speedup")


def test_empty_file_names_the_file(experiment, capsys):
    experiment["files"][1].write_text("")
    expect_error(experiment, capsys, None, str(experiment["files"][1]), "empty")


def test_header_without_rows_names_the_file(experiment, capsys):
    experiment["files"][1].write_text(",".join(COLUMNS) + "\n")
    expect_error(experiment, capsys, None, str(experiment["files"][1]), "no rows")


def test_rows_of_another_seed_name_the_file(experiment, capsys):
    bad = write_rounds(experiment["files"][1], 0, TRIALS[0])  # seed 0 rows under seeds/1
    expect_error(experiment, capsys, None, str(bad), "seed 0")


def test_seed_not_in_config_names_the_file(experiment, capsys):
    extra = write_rounds(experiment["results"] / "seeds" / "7" / "rounds.csv", 7, TRIALS[0])
    expect_error(experiment, capsys, experiment["files"] + [extra], str(extra), "seed 7")


def test_missing_seed_file_is_an_error(experiment, capsys):
    expect_error(experiment, capsys, experiment["files"][:1], "seed(s) [1]")


def test_method_not_in_config_names_the_file(experiment, capsys):
    rows = TRIALS[0] + [("random", 1, 0.5, 0.5, 10)]
    bad = write_rounds(experiment["files"][0], 0, rows)
    expect_error(experiment, capsys, None, str(bad), "random")


def test_repeated_round_names_the_file(experiment, capsys):
    bad = write_rounds(experiment["files"][0], 0, TRIALS[0] + [TRIALS[0][1]])
    expect_error(experiment, capsys, None, str(bad), "appears twice")


def test_seeds_with_different_rounds_name_the_file(experiment, capsys):
    bad = write_rounds(experiment["files"][1], 1, TRIALS[1][:-1])  # oneshot round 2 missing
    expect_error(experiment, capsys, None, str(bad), "method oneshot round 2")


def test_unparsable_value_names_file_and_line(experiment, capsys):
    path = experiment["files"][0]
    path.write_text(path.read_text().replace("0.92", "ninety", 1))
    expect_error(experiment, capsys, None, f"{path}:3:")
