"""lmc (linear mode connectivity): two copies from theta_k, resumed at k, under two data orders;
the path's ends are those copies, and the first copy is exactly imp_rewind's training."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from experiments.config import load_experiment_set
from experiments.methods.lmc import PATH_POINTS, path_columns
from experiments.trial import run_trial

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tiny.yaml"
pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    cfg = load_experiment_set(FIXTURES)["tiny_lmc"]
    out = tmp_path_factory.mktemp("lmc")
    return run_trial("tiny_lmc", cfg, 0, out, device=torch.device("cpu"),
                     data_root=out, log=lambda line: None)


def row(rows, method, round_index):
    return next(r for r in rows if r["method"] == method and r["round"] == round_index)


def test_lmc_runs_the_dense_and_the_last_round_only(rows):
    assert sorted(r["round"] for r in rows if r["method"] == "lmc") == [0, 2]


def test_first_copy_is_imp_rewinds_run_and_the_barrier_is_read_off_the_path(rows):
    sparse = row(rows, "lmc", 2)
    for key in ("test_acc", "val_loss", "early_stop_iter", "iterations", "density"):
        assert sparse[key] == row(rows, "imp_rewind", 2)[key], key
    assert sparse["iterations"] == 20 - 5  # resumed at k = 5
    errors = [sparse[c] for c in path_columns()]
    assert len(errors) == PATH_POINTS
    assert sparse["barrier"] == pytest.approx(max(errors) - (errors[0] + errors[-1]) / 2)
    assert sparse["barrier"] >= 0
    # The path starts at the first copy: its error is that copy's final test error.
    assert errors[0] == pytest.approx(1 - sparse["final_test_acc"])
