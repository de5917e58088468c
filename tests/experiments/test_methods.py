"""The five methods, each checked for what makes it that method: imp's masks shrink by the
configured counts, reinit keeps the ticket's mask but not its weights, random keeps the ticket's
per-layer counts but not its mask, oneshot prunes the dense net once, imp_rewind resumes from
theta_k at step k. A toy dataset stands in for MNIST-1D so each test takes about a second."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import experiments.trial as trial_module
from experiments.config import load_experiment_set
from experiments.masks import kept_counts, magnitude_prune_like, removal_count
from experiments.models import build_model
from experiments.seeding import TrialSeeds
from experiments.trial import Trial, run_trial
from experiments.training import train

from .test_training import tiny_dataset

EXPERIMENT = """\
experiments:
  toy:
    dataset: {name: mnist1d, validation: 40}
    model: {name: mlp, hidden: [16]}
    training: {optimizer: adam, lr: 0.01, batch_size: 16, iterations: 24, eval_every: 8}
    pruning: {scope: SCOPE, rates: RATES, rounds: 3}
    methods: [imp, imp_rewind, oneshot, reinit, random]
    rewind_iteration: 6
    seeds: [0]
"""
LAYERWISE_RATES = "{linear: 0.3, output: 0.2}"
GLOBAL_RATES = "{global: 0.3}"


def toy_config(tmp_path: Path, scope: str = "layerwise") -> dict:
    rates = LAYERWISE_RATES if scope == "layerwise" else GLOBAL_RATES
    path = tmp_path / "toy.yaml"
    path.write_text(EXPERIMENT.replace("SCOPE", scope).replace("RATES", rates))
    return load_experiment_set(path)["toy"]


class Recorder:
    """Runs a trial on the toy data and records, per (method, round), the mask and the starting
    weights each training got."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scope: str = "layerwise"):
        self.starts: dict[tuple[str, int], list[dict]] = {}
        self.trained: dict[tuple[str, int], list] = {}
        original_finish = trial_module._finish_round

        def recording_finish(unit, outcome):
            self.starts[(unit.method, unit.round_index)] = [
                {k: v.clone() for k, v in job.start_weights.items()} for job in unit.trained]
            self.trained[(unit.method, unit.round_index)] = list(unit.trained)
            return original_finish(unit, outcome)

        monkeypatch.setattr(trial_module, "_finish_round", recording_finish)
        monkeypatch.setattr(trial_module, "load_dataset", lambda *args, **kwargs: tiny_dataset())
        self.cfg = toy_config(tmp_path, scope)
        self.out = tmp_path / "out"
        self.rows = run_trial("toy", self.cfg, 0, self.out, device=torch.device("cpu"),
                              data_root=tmp_path, log=lambda line: None)
        self.state = trial_module.TrialState(self.out / "state")
        self.theta0 = torch.load(self.out / "state" / "init.pt")

    def row(self, method: str, round_index: int) -> dict:
        return next(r for r in self.rows if r["method"] == method and r["round"] == round_index)

    def mask(self, method: str, round_index: int) -> dict:
        return self.state.load_mask(method, round_index)


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.fixture
def recorded(tmp_path, monkeypatch) -> Recorder:
    return Recorder(tmp_path, monkeypatch)


def test_imp_masks_shrink_by_exact_counts_and_restart_from_theta0(recorded):
    rates = {"layers.1.weight": 0.3, "layers.3.weight": 0.2}
    for r in range(1, 4):
        before, after = recorded.mask("imp", r - 1), recorded.mask("imp", r)
        for name, rate in rates.items():
            assert not (after[name] & ~before[name]).any(), "masks only shrink"
            assert int(before[name].sum() - after[name].sum()) == removal_count(
                rate, int(before[name].sum()))
        assert same(recorded.starts[("imp", r)][0], recorded.theta0)
    densities = [recorded.row("imp", r)["density"] for r in range(4)]
    assert densities == sorted(densities, reverse=True) and densities[0] == 1.0


def test_reinit_uses_the_ticket_mask_with_other_weights(recorded):
    for r in range(4):
        assert same(recorded.mask("reinit", r), recorded.mask("imp", r))
        start = recorded.starts[("reinit", r)][0]
        assert not torch.equal(start["layers.1.weight"], recorded.theta0["layers.1.weight"])
        # The same alternative initialisation in every round.
        assert same(start, recorded.starts[("reinit", 0)][0])


def test_random_keeps_per_layer_counts_but_not_the_mask(recorded):
    for r in range(1, 4):
        ticket, shuffled = recorded.mask("imp", r), recorded.mask("random", r)
        assert kept_counts(shuffled) == kept_counts(ticket)
        assert not same(shuffled, ticket)
        assert same(recorded.starts[("random", r)][0], recorded.theta0)


def test_oneshot_prunes_the_dense_trained_net_once(recorded):
    dense_trained = recorded.state.load_weights("imp", 0)
    dense = recorded.mask("imp", 0)
    kinds = {"layers.1.weight": "linear", "layers.3.weight": "output"}
    for r in range(1, 4):
        expected = magnitude_prune_like(dense_trained, dense, recorded.mask("imp", r), "layerwise",
                                        kinds)
        assert same(recorded.mask("oneshot", r), expected)
        assert same(recorded.starts[("oneshot", r)][0], recorded.theta0)
    # One step from the dense net is exactly imp's first round.
    assert same(recorded.mask("oneshot", 1), recorded.mask("imp", 1))


def test_imp_rewind_resumes_from_theta_k(recorded):
    """theta_k, resumed at step k: T - k steps trained, on imp's clock (Frankle et al. 2020).
    (Before issue 13 this test pinned the old restart from step 0 with the full T steps.)"""
    # theta_k by hand: the dense net trained from theta_0 for k = 6 steps in the trial's data order.
    model = build_model(recorded.cfg["model"], (12,), 3)
    model.load_state_dict(recorded.theta0)
    cfg = {**recorded.cfg["training"], "iterations": 6}
    theta_k = train(model, recorded.mask("imp", 0), tiny_dataset(), cfg,
                    data_seed=TrialSeeds(0).data_order).final_weights
    for r in range(1, 4):
        assert same(recorded.starts[("imp_rewind", r)][0], theta_k)
        assert recorded.trained[("imp_rewind", r)][0].start_iteration == 6
        assert recorded.row("imp_rewind", r)["iterations"] == 24 - 6
        assert recorded.row("imp_rewind", r)["early_stop_iter"] in (8, 16, 24)
    assert same(recorded.mask("imp_rewind", 1), recorded.mask("imp", 1))
    assert not same(recorded.mask("imp_rewind", 3), recorded.mask("imp", 3))


def test_round_zero_is_imps_dense_run(recorded):
    dense_row = recorded.row("imp", 0)
    for method in ("imp_rewind", "oneshot", "random"):
        row = recorded.row(method, 0)
        assert {k: v for k, v in row.items() if k != "method"} == \
            {k: v for k, v in dense_row.items() if k != "method"}
        assert recorded.starts[(method, 0)] == [], "reused, not trained again"
    assert recorded.row("reinit", 0)["density"] == 1.0


def test_global_scope_prunes_the_pool_and_keeps_output_dense(tmp_path, monkeypatch):
    recorded = Recorder(tmp_path, monkeypatch, scope="global")
    output = "layers.3.weight"
    for r in range(1, 4):
        ticket = recorded.mask("imp", r)
        assert ticket[output].all()
        before = int(recorded.mask("imp", r - 1)["layers.1.weight"].sum())
        assert before - int(ticket["layers.1.weight"].sum()) == removal_count(0.3, before)
        assert kept_counts(recorded.mask("random", r)) == kept_counts(ticket)
        assert recorded.row("oneshot", r)["density"] == recorded.row("imp", r)["density"]
