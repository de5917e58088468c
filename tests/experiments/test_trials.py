"""Seeds and methods trained side by side: rounds gather into waves, and every row and mask is
the one the trial gets when it runs alone or with stacking off."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch

import experiments.trial as trial_module
import experiments.trials as trials_module
from experiments.method_api import Method
from experiments.methods import load_methods
from experiments.trial import run_trial, run_trials
from experiments.trial_state import MissingState

from .test_methods import toy_config
from .test_training import tiny_dataset
from .test_trial import TINY_SET, assert_same_masks, cli, state_files

CPU = torch.device("cpu")
pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def toy(monkeypatch):
    monkeypatch.setattr(trial_module, "load_dataset", lambda *args, **kwargs: tiny_dataset())


def quiet(line: str) -> None:
    pass


def test_seeds_together_equal_seeds_apart(tmp_path, toy):
    cfg = toy_config(tmp_path)
    together = run_trials("toy", cfg, [0, 1], [tmp_path / "t0", tmp_path / "t1"], device=CPU,
                          data_root=tmp_path, log=quiet)
    for seed, rows in zip([0, 1], together):
        alone = run_trial("toy", cfg, seed, tmp_path / f"a{seed}", device=CPU,
                          data_root=tmp_path, log=quiet)
        assert rows == alone
        assert state_files(tmp_path / f"t{seed}") == state_files(tmp_path / f"a{seed}")


def test_a_wave_is_one_round_of_every_method_and_seed(tmp_path, toy, monkeypatch):
    sizes = []
    original = trials_module.train_jobs

    def recording(jobs, *args, **kwargs):
        sizes.append(len(jobs))
        return original(jobs, *args, **kwargs)

    monkeypatch.setattr(trials_module, "train_jobs", recording)
    cfg = toy_config(tmp_path)  # imp, imp_rewind, oneshot, reinit, random; 3 rounds
    run_trials("toy", cfg, [0, 1], [tmp_path / "0", tmp_path / "1"], device=CPU,
               data_root=tmp_path, log=quiet)
    # Round 0 trains imp and reinit (the others reuse imp's dense round); later rounds all five.
    assert sizes == [4, 10, 10, 10]


def test_a_unit_that_never_gets_its_file_is_reported(tmp_path, toy, monkeypatch):
    class NeedsTheImpossible(Method):
        roles = ("ticket",)

        def run_round(self, context, round_index):
            yield from ()
            raise MissingState("state/never.pt: missing trial state")

    def with_impossible_random(names):
        return {**load_methods(names), "random": NeedsTheImpossible()}

    monkeypatch.setattr(trial_module, "load_methods", with_impossible_random)
    with pytest.raises(MissingState, match="never.pt"):
        run_trial("toy", toy_config(tmp_path), 0, tmp_path / "out", device=CPU,
                  data_root=tmp_path, log=quiet)


def read_rows(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_cli_seeds_together_equal_one_at_a_time(tmp_path):
    """The real tiny MNIST-1D experiment, two seeds in one run with stacking, against each seed
    trained network by network with stacking off."""
    data = tmp_path / "data"
    common = ["--experiments-file", str(TINY_SET), "--experiment", "tiny_mnist1d",
              "--device", "cpu", "--data-root", str(data), "--threads", "1"]
    together = cli(*common, "--seed", "0", "--seed", "1", "--out",
                   str(tmp_path / "together" / "{seed}"))
    assert together.returncode == 0, together.stderr
    for seed in ("0", "1"):
        apart = cli(*common, "--seed", seed, "--out", str(tmp_path / "apart" / seed),
                    "--one-at-a-time")
        assert apart.returncode == 0, apart.stderr
        assert read_rows(tmp_path / "together" / seed / "rounds.csv") == \
            read_rows(tmp_path / "apart" / seed / "rounds.csv")
        assert_same_masks(tmp_path / "together" / seed, tmp_path / "apart" / seed)


def test_cli_several_seeds_need_a_seed_pattern(tmp_path, capsys):
    args = ["--experiments-file", str(TINY_SET), "--experiment", "tiny_mnist1d",
            "--seed", "0", "--seed", "1", "--out", str(tmp_path / "o")]
    assert trial_module.main(args) == 2
    assert "{seed}" in capsys.readouterr().err
