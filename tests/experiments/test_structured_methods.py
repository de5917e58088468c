"""The eight structured methods in a real (toy) trial: round 0 is the family's dense network,
each round removes the configured fraction of channels chosen by the family's criterion from that
network, and the four variants start the same narrow network from the trained weights (finetune),
from theta_0 (ticket) or from a fresh initialisation (scratch_e, scratch_b, the latter for more
steps). A toy dataset stands in for MNIST-1D so the whole trial takes a few seconds."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import experiments.methods.structured as structured
import experiments.trial as trial_module
import experiments.trials as trials_module
from experiments import flops
from experiments.config import ConfigError, load_experiment_set
from experiments.models import build_model
from experiments.structured import channel_mask, channel_scores, narrow, select_channels
from experiments.trial import run_trial

from .test_training import tiny_dataset

EXPERIMENT = """\
experiments:
  toy:
    dataset: {name: mnist1d, validation: 40}
    model: {name: convnet, stage_widths: [3, 4], fc_hidden: [5], batch_norm: true}
    training: {optimizer: adam, lr: 0.01, batch_size: 16, iterations: 12, eval_every: 4}
    pruning: {rounds: 2, channel_ratios: [0.3, 0.6]}
    structured: {finetune_iterations: 6, finetune_lr: 0.002, slimming_penalty: 0.01}
    methods: [dense, l1_finetune, l1_ticket, l1_scratch_e, l1_scratch_b,
              slim_finetune, slim_ticket, slim_scratch_e, slim_scratch_b]
    seeds: [0]
"""
VARIANTS = structured.VARIANTS


class Recorder:
    """Runs the toy trial and records, per (method, round), each training its unit asked the
    scheduler for: starting weights, settings and whether it had slimming's penalty."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
        self.trainings: dict[tuple[str, int], list[dict]] = {}
        self.pending: list[dict] = []
        original = trials_module.Scheduler._done

        def recording_done(scheduler, unit, outcome):
            training = unit.trial.cfg["training"]
            self.pending = [{"start": job.start_weights, "cfg": job.cfg or training,
                             "hook": job.scale_penalty is not None, "share": job.share}
                            for job in unit.trained]
            return original(scheduler, unit, outcome)

        monkeypatch.setattr(trials_module.Scheduler, "_done", recording_done)
        monkeypatch.setattr(trial_module, "load_dataset", lambda *args, **kwargs: tiny_dataset())
        path = tmp_path / "toy.yaml"
        path.write_text(EXPERIMENT)
        self.cfg = load_experiment_set(path)["toy"]
        self.out = tmp_path / "out"
        self.rows = run_trial("toy", self.cfg, 0, self.out, device=torch.device("cpu"),
                              data_root=tmp_path, after_round=self._after, log=lambda line: None)
        self.state = trial_module.TrialState(self.out / "state")
        self.theta0 = torch.load(self.out / "state" / "init.pt")

    def _after(self, method: str, round_index: int) -> None:
        self.trainings[(method, round_index)], self.pending = self.pending, []

    def row(self, method: str, round_index: int) -> dict:
        return next(r for r in self.rows if r["method"] == method and r["round"] == round_index)

    def model(self, weights: dict) -> torch.nn.Module:
        model = build_model(self.cfg["model"], (12,), 3)
        model.load_state_dict(weights)
        return model


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> Recorder:
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield Recorder(tmp_path_factory.mktemp("structured"), monkeypatch)


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def without_method(row: dict) -> dict:
    return {key: value for key, value in row.items() if key != "method"}


def test_round_zero_is_the_familys_dense_network(recorded):
    for variant in VARIANTS:
        assert without_method(recorded.row(f"l1_{variant}", 0)) == \
            without_method(recorded.row("dense", 0))
        assert recorded.trainings[(f"l1_{variant}", 0)] == []
        assert without_method(recorded.row(f"slim_{variant}", 0)) == \
            without_method(recorded.row("slim_finetune", 0))
    # Every slim method asks for slimming's dense net, with the penalty, under one share key:
    # it trains once (tests/experiments/test_stacked_conv.py).
    for variant in VARIANTS:
        [job] = recorded.trainings[(f"slim_{variant}", 0)]
        assert job["hook"] and job["share"] == ("slim_dense", 0)
    assert not same(recorded.state.load_weights("slim_dense", 0),
                    recorded.state.load_weights("dense", 0)), "the penalty changed training"


@pytest.mark.parametrize("family, dense, criterion, scope", [
    ("l1", "dense", "l1", "layerwise"), ("slim", "slim_dense", "bn_scale", "global")])
def test_channels_come_from_the_familys_trained_dense_network(recorded, family, dense, criterion,
                                                              scope):
    trained = recorded.model(recorded.state.load_weights(dense, 0))
    for r, ratio in enumerate(recorded.cfg["pruning"]["channel_ratios"], start=1):
        keep = select_channels(channel_scores(trained, criterion), ratio, scope)
        expected = channel_mask(trained, keep)
        for variant in VARIANTS:
            assert same(recorded.state.load_mask(f"{family}_{variant}", r), expected)
            row = recorded.row(f"{family}_{variant}", r)
            size = flops.count(narrow(trained, keep), (12,))
            assert (row["params"], row["flops"]) == (size.params, size.flops)
            assert row["density"] < 1 and row["speedup"] > 1 and row["compression"] > 1


def test_the_variants_start_from_their_own_weights(recorded):
    trained = recorded.model(recorded.state.load_weights("dense", 0))
    initial = recorded.model(recorded.theta0)
    training = recorded.cfg["training"]
    for r, ratio in enumerate(recorded.cfg["pruning"]["channel_ratios"], start=1):
        keep = select_channels(channel_scores(trained, "l1"), ratio, "layerwise")
        [finetune] = recorded.trainings[("l1_finetune", r)]
        assert same(finetune["start"], narrow(trained, keep).state_dict())
        assert (finetune["cfg"]["iterations"], finetune["cfg"]["lr"]) == (6, 0.002)
        [ticket] = recorded.trainings[("l1_ticket", r)]
        assert same(ticket["start"], narrow(initial, keep).state_dict())
        assert ticket["cfg"] == training
        [scratch_e] = recorded.trainings[("l1_scratch_e", r)]
        [scratch_b] = recorded.trainings[("l1_scratch_b", r)]
        assert not torch.equal(scratch_e["start"]["layers.0.weight"],
                               ticket["start"]["layers.0.weight"])
        assert same(scratch_e["start"], scratch_b["start"]) and scratch_e["cfg"] == training
        dense_flops = recorded.row("dense", 0)["flops"]
        factor = min(2.0, dense_flops / recorded.row("l1_scratch_b", r)["flops"])
        assert scratch_b["cfg"]["iterations"] == round(12 * factor) > 12
        assert recorded.row("l1_scratch_b", r)["iterations"] == round(12 * factor)
        assert not any(t["hook"] for t in (finetune, ticket, scratch_e, scratch_b))


def test_scratch_b_stretches_the_milestones_too():
    cfg = {"iterations": 100, "lr_milestones": [50, 75], "lr": 0.1}
    assert structured.scaled_settings(cfg, 1.5) == {"iterations": 150, "lr_milestones": [75, 112],
                                                    "lr": 0.1}


def test_bad_names_get_clear_errors():
    with pytest.raises(ValueError, match="unknown structured family 'l2'"):
        structured.StructuredMethod("l2", "finetune")
    with pytest.raises(ValueError, match="unknown structured variant 'scratch'"):
        structured.StructuredMethod("l1", "scratch")


def test_a_killed_trial_resumes_to_the_same_rows(recorded, tmp_path, monkeypatch):
    monkeypatch.setattr(trial_module, "load_dataset", lambda *args, **kwargs: tiny_dataset())
    finished = []

    def stop_after_slimmings_dense_net(method: str, round_index: int) -> None:
        finished.append((method, round_index))
        if (method, round_index) == ("slim_finetune", 0):
            raise trial_module.StopTrial("killed")

    out = tmp_path / "out"
    with pytest.raises(trial_module.StopTrial):
        run_trial("toy", recorded.cfg, 0, out, device=torch.device("cpu"), data_root=tmp_path,
                  after_round=stop_after_slimmings_dense_net, log=lambda line: None)
    assert finished[-1] == ("slim_finetune", 0)
    rows = run_trial("toy", recorded.cfg, 0, out, device=torch.device("cpu"), data_root=tmp_path,
                     log=lambda line: None)
    assert rows == recorded.rows


def test_rows_of_trainings_run_here_carry_their_late_gains(recorded):
    for variant in VARIANTS:
        assert "late_val_loss_gain" in recorded.row(f"slim_{variant}", 0)
        assert "late_val_loss_gain" not in recorded.row(f"l1_{variant}", 0)  # the dense method's
        for r in (1, 2):
            row = recorded.row(f"l1_{variant}", r)
            assert row["late_val_loss_gain"] >= 0
            stopped_late = row["early_stop_iter"] >= 0.9 * row["iterations"]
            assert (row["late_val_loss_gain"] > 0) == stopped_late
