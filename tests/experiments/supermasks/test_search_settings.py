"""The score search's trainer settings come from the supermask section: its optimizer, rate,
schedule and budget, with the Bernoulli search's own overrides; an experiment that sets none of
them searches with its training settings, as before, and keeps its settings hash. Its rows say
what the search's last tenth bought."""

from __future__ import annotations

from pathlib import Path

import torch

from experiments.config import experiment_config
from experiments.methods.learned_supermask import search_settings
from experiments.settings import experiment_settings
from experiments.trial import run_trial

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "tiny.yaml"


def tiny(tmp_path: Path, supermask: str | None) -> dict:
    text = FIXTURES.read_text(encoding="utf-8")
    if supermask is not None:
        text = text.replace("    seeds: [0]\n", f"    supermask: {supermask}\n    seeds: [0]\n", 1)
    path = tmp_path / "set.yaml"
    path.write_text(text, encoding="utf-8")
    return experiment_config(path, "tiny_supermask")


def test_the_supermask_section_sets_the_search_and_bernoulli_overrides_it(tmp_path):
    cfg = tiny(tmp_path, "{iterations: 30, optimizer: sgd, momentum: 0.9, lr: 0.1, "
                         "weight_decay: 0.0005, lr_schedule: cosine, "
                         "bernoulli: {lr: 100, weight_decay: 0, lr_schedule: constant}}")
    settings = experiment_settings(cfg)
    topk, bernoulli = search_settings(settings, "topk"), search_settings(settings, "bernoulli")
    assert {key: topk[key] for key in ("optimizer", "momentum", "lr", "weight_decay",
                                       "lr_schedule", "iterations")} == \
        {"optimizer": "sgd", "momentum": 0.9, "lr": 0.1, "weight_decay": 0.0005,
         "lr_schedule": "cosine", "iterations": 30}
    assert (bernoulli["lr"], bernoulli["weight_decay"], bernoulli["lr_schedule"]) == \
        (100, 0, "constant")
    assert bernoulli["momentum"] == 0.9 and bernoulli["batch_size"] == cfg["training"]["batch_size"]
    assert bernoulli["iterations"] == 30


def test_the_bernoulli_search_may_have_its_own_budget(tmp_path):
    cfg = tiny(tmp_path, "{iterations: 30, bernoulli: {lr: 100, iterations: 75}}")
    settings = experiment_settings(cfg)
    assert search_settings(settings, "bernoulli")["iterations"] == 75
    assert search_settings(settings, "topk")["iterations"] == 30


def test_without_search_keys_the_search_trains_as_the_weights_do(tmp_path):
    cfg = tiny(tmp_path, None)
    assert cfg["supermask"] == {"rescale": True, "lr": 0.1}  # nothing new enters the hash
    search = search_settings(experiment_settings(cfg), "bernoulli")
    assert search == dict(cfg["training"], lr=0.1)


def test_search_rows_say_what_the_last_tenth_of_the_search_bought(tmp_path):
    cfg = tiny(tmp_path, "{iterations: 30}")
    cfg["methods"] = ["imp", "bernoulli_supermask", "edgepopup"]
    rows = run_trial("tiny_supermask", cfg, 0, tmp_path / "out", device=torch.device("cpu"),
                     data_root=tmp_path / "data", progress=lambda line: None)
    searches = [row for row in rows if row["method"] != "imp"]
    assert {row["method"] for row in searches} == {"bernoulli_supermask", "edgepopup"}
    for row in searches:
        assert row["late_val_loss_gain"] >= 0
        stopped_late = row["early_stop_iter"] >= 0.9 * row["iterations"]
        assert (row["late_val_loss_gain"] > 0) == stopped_late
