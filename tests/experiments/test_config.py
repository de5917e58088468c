"""Experiment-set configs: the shipped files load, and every kind of mistake is reported in one
line naming the file, the line and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from experiments.config import (ConfigError, config_hash, experiment_config, find_figure,
                                load_experiment_set)

REPO = Path(__file__).resolve().parents[2]

VALID = """\
experiments:
  small:
    dataset: {name: mnist1d, validation: 100}
    model:
      name: mlp
      hidden: [8]
    training:
      optimizer: adam
      lr: 1e-3
      batch_size: 10
      iterations: 50
      eval_every: 10
    pruning:
      rates: {linear: 0.2, output: 0.1}
      rounds: 2
    methods: [imp, imp_rewind, reinit]
    rewind_iteration: 5
    seeds: [0, 1]
    figures:
      small_accuracy: {kind: accuracy_vs_density}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "set.yaml"
    path.write_text(text)
    return path


def line_of(text: str, marker: str) -> int:
    """1-based line of the first line containing ``marker``."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if marker in line)


def error_of(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_experiment_set(path)
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("name", ["default.yaml", "paper.yaml"])
def test_shipped_sets_are_valid(name):
    experiments = load_experiment_set(REPO / "config" / "experiments" / name)
    assert experiments
    for cfg in experiments.values():
        assert cfg["methods"][0] in ("imp", "dense")  # the dense network comes first


def test_defaults_are_filled(tmp_path):
    cfg = load_experiment_set(write(tmp_path, VALID))["small"]
    assert cfg["training"]["momentum"] == 0.0
    assert cfg["training"]["weight_decay"] == 0.0
    assert cfg["training"]["lr_milestones"] == []
    assert cfg["pruning"]["scope"] == "layerwise"
    assert cfg["report_densities"] == []
    # YAML 1.1 would read 1e-3 as a string; the loader reads it as the float it looks like.
    assert cfg["training"]["lr"] == 0.001


def test_unknown_key_names_key_file_and_line(tmp_path):
    text = VALID.replace("      batch_size: 10", "      batch_size: 10\n      batch_sise: 10")
    message = error_of(tmp_path, text)
    assert message.startswith(f"{tmp_path / 'set.yaml'}:{line_of(text, 'batch_sise')}:")
    assert "experiments.small.training.batch_sise" in message
    assert "unknown key 'batch_sise'" in message


def test_unknown_top_level_key(tmp_path):
    message = error_of(tmp_path, VALID + "extra: 1\n")
    assert f":{line_of(VALID + 'extra: 1', 'extra')}:" in message and "'extra'" in message


@pytest.mark.parametrize("old, new, marker, expected", [
    ("[imp, imp_rewind, reinit]", "[imp, imp_rewnd, reinit]", "imp_rewnd", "unknown method 'imp_rewnd'"),
    ("name: mlp", "name: mlp3", "mlp3", "unknown model 'mlp3'"),
    ("name: mnist1d", "name: mnist2d", "mnist2d", "unknown dataset 'mnist2d'"),
    ("optimizer: adam", "optimizer: adagrad", "adagrad", "unknown optimizer 'adagrad'"),
    ("lr: 1e-3", "lr: fast", "fast", "expected number, got str 'fast'"),
    ("iterations: 50", "iterations: 50.5", "50.5", "expected integer"),
    ("seeds: [0, 1]", "seeds: [0, -1]", "seeds", "minimum"),
])
def test_bad_values_name_the_key_and_line(tmp_path, old, new, marker, expected):
    text = VALID.replace(old, new)
    message = error_of(tmp_path, text)
    assert f"set.yaml:{line_of(text, marker)}:" in message
    assert expected in message


def test_missing_required_key(tmp_path):
    text = VALID.replace("    seeds: [0, 1]\n", "")
    message = error_of(tmp_path, text)
    assert "missing required key 'seeds'" in message
    assert f"set.yaml:{line_of(text, 'small:')}:" in message


def test_yaml_syntax_error_names_line(tmp_path):
    text = VALID.replace("lr: 1e-3", "lr: 1e-3: 3")
    message = error_of(tmp_path, text)
    assert "YAML syntax error: mapping values are not allowed" in message  # libyaml or PyYAML words
    assert f"set.yaml:{line_of(text, 'lr: 1e-3: 3')}:" in message


def test_duplicate_key_is_an_error(tmp_path):
    text = VALID.replace("      eval_every: 10", "      eval_every: 10\n      lr: 0.1")
    message = error_of(tmp_path, text)
    assert "duplicate key 'lr'" in message
    assert f"set.yaml:{line_of(text, 'lr: 0.1')}:" in message


@pytest.mark.parametrize("old, new, marker, expected", [
    ("    rewind_iteration: 5\n", "", "small:", "imp_rewind needs 'rewind_iteration'"),
    ("rewind_iteration: 5", "rewind_iteration: 50", "rewind_iteration", "below iterations"),
    ("[imp, imp_rewind, reinit]", "[reinit]", "methods", "reinit needs imp"),
    ("{linear: 0.2, output: 0.1}", "{linear: 0.2, output: 0.1, global: 0.2}", "rates",
     "only for scope: global"),
    ("{linear: 0.2, output: 0.1}", "{linear: 0.2}", "rates", "needs 'output'"),
    ("      rounds: 2", "      rounds: 2\n      scope: global", "rates", "not used by scope: global"),
    ("      rounds: 2", "      rounds: 2\n      output_in_pool: true", "output_in_pool",
     "only for scope: global"),
    ("{linear: 0.2, output: 0.1}\n      rounds: 2",
     "{global: 0.2, output: 0.1}\n      rounds: 2\n      scope: global\n      output_in_pool: true",
     "output: 0.1", "no separate output rate"),
    ("eval_every: 10", "eval_every: 100", "eval_every", "exceeds iterations"),
    ("      hidden: [8]", "      hidden: [8]\n      shortcut: padding", "shortcut", "resnet20 only"),
    ("{name: mnist1d, validation: 100}", "{name: mnist1d, validation: 100, augment: true}",
     "dataset", "cifar10 only"),
])
def test_cross_field_rules(tmp_path, old, new, marker, expected):
    text = VALID.replace(old, new)
    assert text != VALID
    message = error_of(tmp_path, text)
    assert f"set.yaml:{line_of(text, marker)}:" in message
    assert expected in message


def test_figure_names_unique_across_experiments(tmp_path):
    second = VALID.split("\n", 1)[1].replace("  small:", "  other:")
    message = error_of(tmp_path, VALID + second)
    assert "already declared by experiment 'small'" in message


def test_missing_file_and_missing_experiment(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_experiment_set(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="no experiment named 'big'.*known: small"):
        experiment_config(write(tmp_path, VALID), "big")


def test_find_figure(tmp_path):
    experiments = load_experiment_set(write(tmp_path, VALID))
    assert find_figure(experiments, "small_accuracy") == ("small", {"kind": "accuracy_vs_density"})
    with pytest.raises(KeyError):
        find_figure(experiments, "nope")


def test_config_hash_is_canonical():
    a = {"x": 1, "y": [1, 2], "z": {"b": 2.5, "a": "s"}}
    b = {"z": {"a": "s", "b": 2.5}, "y": [1, 2], "x": 1}
    assert config_hash(a) == config_hash(b)
    assert config_hash(a).startswith("sha256:") and len(config_hash(a)) == 7 + 64
    assert config_hash(a) != config_hash({**a, "x": 2})


def test_round_trial_and_summary_settings_split_the_experiment_keys():
    from experiments.config import load_experiment_set, round_settings, summary_settings, trial_settings

    cfg = load_experiment_set("config/experiments/default.yaml")["lth_mnist1d"]
    assert set(round_settings(cfg)) == {"dataset", "model", "training", "pruning", "rewind_iteration",
                                         "supermask", "structured", "early_bird", "rigl",
                                         "compression"}
    # round_settings names an absent optional section too (as None); trial_settings does not.
    absent = {"early_bird", "rigl"}
    assert set(trial_settings(cfg)) == set(round_settings(cfg)) - absent | {"methods", "seeds"}
    assert "figures" not in summary_settings(cfg) and "report_densities" in summary_settings(cfg)


def test_structured_methods_need_a_channel_model(tmp_path):
    config = tmp_path / "set.yaml"
    config.write_text(STRUCTURED.replace("MODEL", "{name: mlp, hidden: [8]}"))
    with pytest.raises(ConfigError, match=r"set.yaml:\d+: .*l1_finetune prunes channels"):
        load_experiment_set(config)


def test_slimming_needs_batch_norm(tmp_path):
    config = tmp_path / "set.yaml"
    config.write_text(STRUCTURED.replace("MODEL", "{name: convnet, stage_widths: [4]}"))
    with pytest.raises(ConfigError, match="slim_finetune needs batch_norm: true"):
        load_experiment_set(config)


def test_channel_ratios_must_match_rounds_and_stay_below_one(tmp_path):
    config = tmp_path / "set.yaml"
    model = "{name: convnet, stage_widths: [4], batch_norm: true}"
    config.write_text(STRUCTURED.replace("MODEL", model).replace("[0.5]", "[0.5, 0.7]"))
    with pytest.raises(ConfigError, match="gives 2 ratios for 1 rounds"):
        load_experiment_set(config)
    config.write_text(STRUCTURED.replace("MODEL", model).replace("[0.5]", "[1.5]"))
    with pytest.raises(ConfigError, match=r"set.yaml:\d+: .*channel_ratios"):
        load_experiment_set(config)


def test_unknown_supermask_criterion_is_refused_with_its_line(tmp_path):
    config = tmp_path / "set.yaml"
    config.write_text(STRUCTURED.replace("MODEL", "{name: mlp, hidden: [8]}")
                      .replace("[dense, l1_finetune, slim_finetune]", "[imp, untrained_biggest]")
                      .replace("channel_ratios: [0.5]", "rates: {linear: 0.5, output: 0.2}"))
    with pytest.raises(ConfigError, match=r"set.yaml:\d+: .*untrained_biggest"):
        load_experiment_set(config)


STRUCTURED = """\
experiments:
  s:
    dataset: {name: mnist1d, validation: 100}
    model: MODEL
    training: {optimizer: sgd, lr: 0.1, batch_size: 32, iterations: 10, eval_every: 5}
    pruning: {rounds: 1, channel_ratios: [0.5]}
    methods: [dense, l1_finetune, slim_finetune]
    seeds: [0]
"""


def test_a_residual_mlp_needs_two_hidden_layers_of_one_width(tmp_path):
    text = VALID.replace("      hidden: [8]\n", "      hidden: [8, 6]\n      residual: true\n")
    message = error_of(tmp_path, text)
    assert message.startswith(f"{tmp_path / 'set.yaml'}:{line_of(text, 'residual')}:")
    assert "needs two consecutive hidden layers of one width" in message
    load_experiment_set(write(tmp_path, text.replace("[8, 6]", "[8, 8]")))
