"""Figures: every kind yields a real, deterministic vector PDF with embedded fonts and a
provenance file; bad names, kinds and methods stop with one line naming the config file (kinds,
spec keys and methods at its line, when the set loads)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from pypdf import PdfReader

from experiments.figures import KINDS, density_ticks, main
from tests.experiments.test_aggregate import size_columns


EXPERIMENT_SET = """\
experiments:
  tiny:
    dataset: {name: mnist1d, validation: 100}
    model: {name: mlp, hidden: [16]}
    training: {optimizer: sgd, lr: 0.1, batch_size: 32, iterations: 10, eval_every: 5}
    pruning: {rates: {linear: 0.5, output: 0.5}, rounds: 3}
    methods: [imp, imp_rewind, oneshot, reinit, random, untrained_large_final, untrained_random,
              edgepopup, signed_constant]
    rewind_iteration: 2
    seeds: [0, 1]
    figures:
      tiny_accuracy: {kind: accuracy_vs_density, methods: [imp, reinit, random]}
      tiny_early_stop: {kind: early_stop_vs_density}
      tiny_oneshot: {kind: oneshot_vs_iterative}
      tiny_rewind: {kind: rewind_vs_reset}
      tiny_untrained: {kind: untrained_criteria, methods: [untrained_large_final, untrained_random]}
      tiny_learned: {kind: learned_supermasks, methods: [imp, edgepopup]}
      tiny_signs: {kind: signs_vs_magnitudes, methods: [imp, signed_constant, reinit]}
  tiny_s:
    dataset: {name: mnist1d, validation: 100}
    model: {name: convnet, stage_widths: [4]}
    training: {optimizer: sgd, lr: 0.1, batch_size: 32, iterations: 10, eval_every: 5}
    pruning: {rounds: 3, channel_ratios: [0.2, 0.4, 0.6]}
    methods: [dense, l1_finetune, l1_ticket]
    seeds: [0, 1]
    figures:
      tiny_structured: {kind: structured_vs_density, methods: [l1_finetune, l1_ticket]}
  tiny_lr_a: &panel
    dataset: {name: mnist1d, validation: 100}
    model: {name: mlp, hidden: [16]}
    training: {optimizer: sgd, lr: 0.1, batch_size: 32, iterations: 10, eval_every: 5}
    pruning: {rates: {linear: 0.5, output: 0.5}, rounds: 3}
    methods: [imp, reinit]
    seeds: [0, 1]
    figures:
      tiny_lr: {kind: lr_panels, panels: [tiny_lr_a, tiny_lr_b]}
  tiny_lr_b:
    <<: *panel
    figures: {}
  tiny_lmc_a:
    <<: *panel
    methods: [imp, imp_rewind, lmc]
    rewind_iteration: 2
    figures:
      tiny_lmc: {kind: lmc_vs_rewind, panels: [tiny_lmc_a, tiny_lmc_b]}
  tiny_lmc_b:
    <<: *panel
    methods: [imp, imp_rewind, lmc]
    rewind_iteration: 4
    figures: {}
  tiny_anatomy:
    <<: *panel
    methods: [imp, oneshot, ticket_anatomy]
    figures:
      tiny_ticket: {kind: ticket_anatomy}
  tiny_pai:
    <<: *panel
    methods: [dense, snip, snip_shuffled, snip_reinit, pai_random]
    figures:
      tiny_pai_checks: {kind: pai_sanity_checks, panels: [tiny_pai, tiny_lr_a],
                        methods: [snip, snip_shuffled, snip_reinit, pai_random, imp]}
  tiny_eb:
    <<: *panel
    methods: [imp, early_bird]
    early_bird: {check_every: 2, queue: 3, threshold: 0.1}
    figures:
      tiny_early_bird: {kind: early_bird_distance}
  tiny_compression:
    <<: *panel
    methods: [imp, deep_compression, deep_compression_ticket]
    compression: {bits: [2, 4]}
    figures:
      tiny_compress: {kind: compression_tradeoff}
"""
COLUMNS = ["method", "seed", "round", "density", "test_acc", "val_acc", "early_stop_iter",
           "final_test_acc", "params", "flops", "compression", "speedup"]
METHODS = ["imp", "imp_rewind", "oneshot", "random", "reinit", "untrained_large_final",
           "untrained_random", "edgepopup", "signed_constant", "l1_finetune", "l1_ticket"]


def rows_of(methods=METHODS, seeds=(0, 1), rounds=4):
    """Plausible rows: accuracy falls as density halves, each method and seed a little apart."""
    for method_index, method in enumerate(methods):
        for seed in seeds:
            for round_index in range(rounds):
                acc = 0.9 - 0.03 * round_index * method_index / 4 + 0.01 * seed
                yield {"method": method, "seed": seed, "round": round_index,
                       "density": 0.5 ** round_index, "test_acc": acc, "val_acc": acc + 0.005,
                       "early_stop_iter": 100 - 10 * round_index + 5 * seed,
                       "final_test_acc": acc - 0.01, **size_columns(0.5 ** round_index)}


def write_results(results: Path, methods=METHODS, seeds=(0, 1)) -> None:
    results.mkdir(parents=True, exist_ok=True)
    with (results / "rounds.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows_of(methods, seeds))
    (results / "summary.json").write_text(json.dumps({"provenance": {"device": "cuda"}}))


def write_lmc_results(results: Path, shift: float) -> None:
    """Rows of lmc beside imp's: test errors along the path (path_err_I) and their barrier."""
    write_results(results, methods=["imp", "imp_rewind"])
    path_columns = [f"path_err_{i}" for i in range(5)]
    with (results / "rounds.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS + ["barrier", *path_columns])
        writer.writeheader()
        writer.writerows(rows_of(["imp", "imp_rewind"]))
        for row in rows_of(["lmc"]):
            path = [0.4, 0.45 + shift, 0.5 + shift, 0.45 + shift, 0.4]
            writer.writerow({**row, "barrier": 0.1 + shift, **dict(zip(path_columns, path))})


def write_anatomy_results(results: Path) -> None:
    """Rows of ticket_anatomy beside imp's and oneshot's: its measurements from round 1 on."""
    write_results(results, methods=["imp", "oneshot"])
    measured = ["first_density", "neighbour_kept", "neighbour_chance", "oneshot_overlap",
                "overlap_chance", "kept_init_mag", "pruned_init_mag", "kept_sign_kept",
                "pruned_sign_kept"]
    profile = [f"in_pos_{p}" for p in range(6)]
    with (results / "rounds.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS + measured + profile)
        writer.writeheader()
        writer.writerows(rows_of(["imp", "oneshot"]))
        for row in rows_of(["ticket_anatomy"]):
            if row["round"] == 0:
                writer.writerow(row)
                continue
            d = row["density"]
            values = [d, 0.6, d, 0.8, d, 1.0, 0.7, 0.9, 0.6]
            shape = [d * (0.5 + p / 5) + 0.01 * row["seed"] for p in range(6)]
            writer.writerow({**row, **dict(zip(measured, values)), **dict(zip(profile, shape))})


def write_early_bird_results(results: Path) -> None:
    """Rows of early_bird beside imp's: FIFO distances at steps 4..10 and a draw step."""
    write_results(results, methods=["imp"])
    steps = [4, 6, 8, 10]
    extra = ["eb_iteration", "eb_found", "train_cost", "imp_train_cost"]
    with (results / "rounds.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS + extra + [f"eb_dist_{t}" for t in steps])
        writer.writeheader()
        writer.writerows(rows_of(["imp"]))
        for row in rows_of(["early_bird"]):
            if row["round"] == 0:
                writer.writerow({**row, "train_cost": 1.0})
                continue
            dist = {f"eb_dist_{t}": row["density"] * 0.3 / t * (1 + 0.1 * row["seed"]) for t in steps}
            writer.writerow({**row, "eb_iteration": 8 + 2 * row["seed"], "eb_found": 1,
                             "train_cost": 0.5, "imp_train_cost": 2.0, **dist})


def write_compression_results(results: Path) -> None:
    """Rows of the deep-compression methods beside imp's: stage ratios and accuracies."""
    write_results(results, methods=["imp"])
    stages = {"dc_dense": (1.0, 0.9), "dc_pruned": (5.0, 0.88), "dc_h2": (40.0, 0.7),
              "dc_h4": (30.0, 0.86), "dc_q2": (35.0, 0.7), "dc_q4": (26.0, 0.86),
              "dc_sz3_1em2": (20.0, 0.87), "dc_sz3_1em1": (28.0, 0.8),
              "dc_zfp_1em2": (15.0, 0.88), "dc_zfp_1em1": (19.0, 0.85)}
    columns = [f"{stage}_{part}" for stage in stages for part in ("ratio", "acc")]
    columns.append("dc_sz3_1em1_file_ratio")  # not a bound of its own
    with (results / "rounds.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS + columns)
        writer.writeheader()
        writer.writerows(rows_of(["imp"]))
        for method in ("deep_compression", "deep_compression_ticket"):
            for row in rows_of([method]):
                if row["round"] == 0:
                    continue
                spread = 1 + 0.05 * row["seed"] + 0.1 * row["round"]
                values = {f"{stage}_ratio": ratio * spread for stage, (ratio, _) in stages.items()}
                values["dc_sz3_1em1_file_ratio"] = 10.0
                values.update({f"{stage}_acc": acc - 0.01 * row["seed"]
                               for stage, (_, acc) in stages.items()})
                writer.writerow({**row, **values})


@pytest.fixture
def setup(tmp_path: Path) -> dict:
    config = tmp_path / "set.yaml"
    config.write_text(EXPERIMENT_SET)
    results = tmp_path / "results" / "tiny"
    write_results(results)
    write_results(results.parent / "tiny_s")
    for panel in ("tiny_lr_a", "tiny_lr_b"):
        write_results(results.parent / panel, methods=["imp", "reinit"])
    write_lmc_results(results.parent / "tiny_lmc_a", 0.05)
    write_lmc_results(results.parent / "tiny_lmc_b", 0.0)
    write_anatomy_results(results.parent / "tiny_anatomy")
    write_results(results.parent / "tiny_pai",
                  methods=["dense", "snip", "snip_shuffled", "snip_reinit", "pai_random"])
    write_early_bird_results(results.parent / "tiny_eb")
    write_compression_results(results.parent / "tiny_compression")
    return {"config": config, "results": results, "figures": tmp_path / "figures"}


KIND_OF: dict[str, str] = {}


def draw(setup: dict, name: str, out: Path | None = None) -> int:
    out = out or setup["figures"] / f"{name}.pdf"
    own = {"tiny_structured": "tiny_s", "tiny_lr": "tiny_lr_a", "tiny_lmc": "tiny_lmc_a",
           "tiny_ticket": "tiny_anatomy", "tiny_pai_checks": "tiny_pai",
           "tiny_early_bird": "tiny_eb",
           "tiny_compress": "tiny_compression"}
    results = setup["results"].parent / own[name] if name in own else setup["results"]
    return main(["--experiments-file", str(setup["config"]), "--figure", name,
                 "--results", str(results), "--out", str(out)])


def test_every_kind_has_a_figure_in_the_test_config():
    declared = {line.split("kind: ")[1].split(",")[0].rstrip("}")
                for line in EXPERIMENT_SET.splitlines() if "kind: " in line}
    assert declared == set(KINDS)


@pytest.mark.parametrize("name", ["tiny_accuracy", "tiny_early_stop", "tiny_oneshot",
                                  "tiny_rewind", "tiny_untrained", "tiny_learned", "tiny_signs",
                                  "tiny_structured"])
def test_each_kind_draws_a_one_page_pdf_at_column_width(setup, name):
    KIND_OF.update({line.split(":")[0].strip(): line.split("kind: ")[1].split(",")[0].rstrip("}")
                    for line in EXPERIMENT_SET.splitlines() if "kind: " in line})
    assert draw(setup, name) == 0
    reader = PdfReader(setup["figures"] / f"{name}.pdf")
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert float(box.width) == pytest.approx(6 * 72)  # the column width; heights vary by kind
    assert float(box.height) == pytest.approx(72 * KINDS[KIND_OF[name]].size_in[1])
    text = reader.pages[0].extract_text()
    assert "Weights remaining (%)" in text and "Dense network" in text


def test_accuracy_figure_shows_the_chosen_methods_only(setup):
    assert draw(setup, "tiny_accuracy") == 0
    text = PdfReader(setup["figures"] / "tiny_accuracy.pdf").pages[0].extract_text()
    assert "Test accuracy at early stop (%)" in text
    assert "Random reinit" in text and "Random pruning" in text
    assert "One-shot" not in text and "rewind" not in text


def test_comparison_figures_default_to_their_pair_of_methods(setup):
    assert draw(setup, "tiny_rewind") == 0
    text = PdfReader(setup["figures"] / "tiny_rewind.pdf").pages[0].extract_text()
    assert "IMP, rewind" in text and "IMP, reset to init" in text and "Random" not in text
    assert "Early-stop iteration" in text


def test_one_seed_draws_without_bands(setup):
    write_results(setup["results"], seeds=(0,))
    assert draw(setup, "tiny_accuracy") == 0
    provenance = json.loads((setup["figures"] / "tiny_accuracy.provenance.json").read_text())
    assert provenance["seeds"] == [0]


def test_fonts_are_embedded_and_no_creation_date(setup):
    assert draw(setup, "tiny_early_stop") == 0
    reader = PdfReader(setup["figures"] / "tiny_early_stop.pdf")
    fonts = reader.pages[0]["/Resources"]["/Font"]
    assert fonts
    for font in fonts.values():
        font = font.get_object()
        descendant = font.get("/DescendantFonts")
        descriptor = (descendant[0].get_object() if descendant else font)["/FontDescriptor"]
        assert "/FontFile2" in descriptor.get_object()  # an embedded TrueType program
    assert "/CreationDate" not in (reader.metadata or {})


def test_same_inputs_give_the_same_bytes(setup, tmp_path):
    first, second = tmp_path / "a" / "fig.pdf", tmp_path / "b" / "fig.pdf"
    assert draw(setup, "tiny_oneshot", first) == 0
    assert draw(setup, "tiny_oneshot", second) == 0
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes().startswith(b"%PDF")


def test_provenance_sits_beside_the_pdf(setup):
    assert draw(setup, "tiny_accuracy") == 0
    provenance = json.loads((setup["figures"] / "tiny_accuracy.provenance.json").read_text())
    assert provenance["rule"] == "figure" and provenance["experiment"] == "tiny"
    assert provenance["figure"] == "tiny_accuracy"
    assert provenance["kind"] == "accuracy_vs_density"
    assert provenance["sources"] == [str(setup["results"] / "rounds.csv"),
                                     str(setup["results"] / "summary.json")]
    assert provenance["device"] == "cuda" and provenance["seeds"] == [0, 1]
    assert provenance["config_hash"].startswith("sha256:")
    leftovers = [path.name for path in setup["figures"].iterdir() if path.name.startswith(".")]
    assert leftovers == []


@pytest.mark.parametrize("lowest, ticks", [
    (30, [100, 70, 50, 30]),                    # under a decade: finer steps
    (1, [100, 50, 20, 10, 5, 2, 1]),            # two decades: 1-2-5
    (0.01, [100, 10, 1, 0.1, 0.01]),            # four decades: one per decade
])
def test_density_ticks_stay_readable(lowest, ticks):
    assert density_ticks(lowest) == ticks


def expect_config_error(setup, capsys, name, *fragments):
    assert draw(setup, name) == 1
    message = capsys.readouterr().err
    assert message.count("\n") == 1, message
    assert str(setup["config"]) in message
    for fragment in fragments:
        assert fragment in message
    assert not (setup["figures"] / f"{name}.pdf").exists()


def test_unknown_figure_name_names_the_config(setup, capsys):
    expect_config_error(setup, capsys, "no_such_figure", "no_such_figure", "tiny_accuracy")


def test_unknown_kind_names_the_config(setup, capsys):
    setup["config"].write_text(EXPERIMENT_SET.replace("kind: rewind_vs_reset", "kind: pie"))
    expect_config_error(setup, capsys, "tiny_rewind", "set.yaml:15:", "unknown figure kind 'pie'")


def test_unknown_spec_key_names_the_config(setup, capsys):
    setup["config"].write_text(EXPERIMENT_SET.replace(
        "{kind: rewind_vs_reset}", "{kind: rewind_vs_reset, colour: red}"))
    expect_config_error(setup, capsys, "tiny_rewind", "set.yaml:15:", "colour")


def test_a_method_the_experiment_does_not_run_is_a_config_error(setup, capsys):
    setup["config"].write_text(EXPERIMENT_SET.replace("methods: [imp, edgepopup]",
                                                      "methods: [imp, bernoulli_supermask]"))
    expect_config_error(setup, capsys, "tiny_accuracy", "set.yaml:17:", "bernoulli_supermask")


def test_panels_must_be_experiments_of_the_set(setup, capsys):
    setup["config"].write_text(EXPERIMENT_SET.replace(
        "methods: [l1_finetune, l1_ticket]}", "methods: [l1_finetune], panels: [tiny_s, nope]}"))
    expect_config_error(setup, capsys, "tiny_structured", "no experiment named 'nope'")


def test_method_missing_from_results_names_the_config(setup, capsys):
    write_results(setup["results"], methods=["imp", "oneshot"])
    expect_config_error(setup, capsys, "tiny_accuracy", "reinit, random",
                        str(setup["results"] / "rounds.csv"))


@pytest.mark.parametrize("name, labels", [
    ("tiny_lr", ["Weights remaining (%)", "IMP", "Random reinit"]),
    ("tiny_lmc", ["interpolation alpha", "Error barrier (%)", "rewind step k", "k = 2", "k = 4"]),
    ("tiny_ticket", ["input position", "random mask", "IMP ticket", "kept", "pruned",
                     "Weights remaining (%)", "50% of weights"]),
    ("tiny_pai_checks", ["SNIP", "Panel's method, shuffled in layers", "IMP, reset to init",
                         "Panel's method, reinitialised", "Random, uniform over layers",
                         "Weights remaining (%)"]),
])
def test_panel_kinds_draw_every_panel(setup, name, labels):
    assert draw(setup, name) == 0
    reader = PdfReader(setup["figures"] / f"{name}.pdf")
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert all(label in text for label in labels), text


def test_a_pooled_figure_needs_each_method_in_one_of_its_experiments(setup, capsys):
    setup["config"].write_text(EXPERIMENT_SET.replace(
        "snip_reinit, pai_random, imp]}", "snip_reinit, pai_random, oneshot]}"))
    expect_config_error(setup, capsys, "tiny_pai_checks", "oneshot",
                        "none of experiments tiny_pai, tiny_lr_a")


def test_early_bird_figure_shows_distance_curves_threshold_and_draw_points(setup):
    assert draw(setup, "tiny_early_bird") == 0
    text = PdfReader(setup["figures"] / "tiny_early_bird.pdf").pages[0].extract_text()
    assert "Largest mask distance in the FIFO" in text and "threshold 0.1" in text
    assert "50.0% of weights" in text and "12.5% of weights" in text
