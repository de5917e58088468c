"""Trials: repeatable, resumable after an interruption at any point with bit-identical results,
and a command line that reports bad input in one line."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import experiments.trial as trial_module
import experiments.trials as trials_module
from experiments.config import experiment_config
from experiments.trial import ROW_FIELDS, StopTrial, TrialError, execution_order, run_trial

from .test_methods import toy_config
from .test_training import tiny_dataset
from .threads import one_torch_thread

REPO = Path(__file__).resolve().parents[2]
TINY_SET = REPO / "tests" / "fixtures" / "tiny.yaml"  # experiments of seconds, for tests


@pytest.fixture
def toy(monkeypatch):
    monkeypatch.setattr(trial_module, "load_dataset", lambda *args, **kwargs: tiny_dataset())


def run(cfg: dict, out: Path, **kwargs) -> list[dict]:
    return run_trial("toy", cfg, 0, out, device=torch.device("cpu"), data_root=out,
                     log=lambda line: None, **kwargs)


def state_files(out: Path) -> dict[str, bytes]:
    """Relative path -> bytes of every mask and row file, and theta_0."""
    state = out / "state"
    files = [*state.glob("masks/*.pt"), *state.glob("rows/*.json"), state / "init.pt"]
    return {str(p.relative_to(state)): p.read_bytes() for p in files}


def assert_same_masks(a: Path, b: Path) -> None:
    names = sorted(p.name for p in (a / "state" / "masks").glob("*.pt"))
    assert names == sorted(p.name for p in (b / "state" / "masks").glob("*.pt"))
    for name in names:
        first = torch.load(a / "state" / "masks" / name)
        second = torch.load(b / "state" / "masks" / name)
        assert all(torch.equal(first[k], second[k]) for k in first), name


def test_imp_runs_first():
    assert execution_order(["random", "imp_rewind", "imp", "reinit"]) == \
        ["imp", "random", "imp_rewind", "reinit"]


def test_same_seed_same_results(tmp_path, toy):
    cfg = toy_config(tmp_path)
    first, second = run(cfg, tmp_path / "a"), run(cfg, tmp_path / "b")
    assert first == second
    assert len(first) == len(cfg["methods"]) * (cfg["pruning"]["rounds"] + 1)
    assert_same_masks(tmp_path / "a", tmp_path / "b")
    assert state_files(tmp_path / "a") == state_files(tmp_path / "b")
    other_seed = run_trial("toy", cfg, 1, tmp_path / "c", device=torch.device("cpu"),
                           data_root=tmp_path, log=lambda line: None)
    assert other_seed != first


@pytest.mark.parametrize("stop_after", [1, 5, 11])
def test_resume_after_stop_between_rounds(tmp_path, toy, stop_after):
    cfg = toy_config(tmp_path)
    expected = run(cfg, tmp_path / "straight")
    finished = []

    def stop(method: str, round_index: int) -> None:
        finished.append((method, round_index))
        if len(finished) == stop_after:
            raise StopTrial("simulated kill")

    with pytest.raises(StopTrial):
        run(cfg, tmp_path / "resumed", after_round=stop)
    assert len(list((tmp_path / "resumed" / "state" / "rows").glob("*.json"))) == stop_after
    assert run(cfg, tmp_path / "resumed") == expected
    assert_same_masks(tmp_path / "straight", tmp_path / "resumed")
    assert state_files(tmp_path / "straight") == state_files(tmp_path / "resumed")


@pytest.mark.parametrize("crash_at", [2, 3, 4])
def test_resume_after_crash_inside_a_round(tmp_path, toy, monkeypatch, crash_at):
    """A crash in the middle of training (after the round's mask was saved, before its row)."""
    cfg = toy_config(tmp_path)
    expected = run(cfg, tmp_path / "straight")
    original_train = trials_module.train_jobs
    calls = []

    def crashing_train(*args, **kwargs):
        calls.append(1)
        if len(calls) == crash_at:
            raise KeyboardInterrupt("simulated kill during training")
        return original_train(*args, **kwargs)

    monkeypatch.setattr(trials_module, "train_jobs", crashing_train)
    with pytest.raises(KeyboardInterrupt):
        run(cfg, tmp_path / "resumed")
    monkeypatch.setattr(trials_module, "train_jobs", original_train)
    assert run(cfg, tmp_path / "resumed") == expected
    assert state_files(tmp_path / "straight") == state_files(tmp_path / "resumed")
    leftovers = [p for p in (tmp_path / "resumed").rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


def stop_at_once(method: str, round_index: int) -> None:
    raise StopTrial("simulated kill")


def test_state_of_other_settings_is_discarded(tmp_path, toy):
    cfg = toy_config(tmp_path)
    changed = {**cfg, "training": {**cfg["training"], "lr": 0.02}}
    with pytest.raises(StopTrial):
        run(cfg, tmp_path / "out", after_round=stop_at_once)
    lines = []
    rows = run_trial("toy", changed, 0, tmp_path / "out", device=torch.device("cpu"),
                     data_root=tmp_path, log=lines.append)
    assert "discarded" in lines[0]
    assert rows == run(changed, tmp_path / "fresh")


def test_reporting_keys_do_not_invalidate_state(tmp_path, toy):
    cfg = toy_config(tmp_path)
    with pytest.raises(StopTrial):
        run(cfg, tmp_path / "out", after_round=stop_at_once)
    relabelled = {**cfg, "description": "other words", "report_densities": [0.3], "seeds": [0, 5]}
    lines = []
    run_trial("toy", relabelled, 0, tmp_path / "out", device=torch.device("cpu"),
              data_root=tmp_path, log=lines.append)
    assert "resuming: 1 of 20 rounds already done" in lines[0]


def test_state_of_another_trial_is_refused(tmp_path, toy):
    cfg = toy_config(tmp_path)
    with pytest.raises(StopTrial):
        run(cfg, tmp_path / "out", after_round=stop_at_once)
    with pytest.raises(TrialError, match="state of trial .'toy', 0., not .'toy', 1."):
        run_trial("toy", cfg, 1, tmp_path / "out", device=torch.device("cpu"), data_root=tmp_path,
                  log=lambda line: None)


def cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "experiments.trial", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL)


def test_cli_end_to_end_with_resume(tmp_path):
    """The real tiny MNIST-1D experiment: stopped after 4 rounds, rerun, equal to a straight run."""
    out, data = tmp_path / "seeds" / "0", tmp_path / "data"
    common = ["--experiments-file", str(TINY_SET), "--experiment", "tiny_mnist1d", "--seed", "0",
              "--out", str(out), "--device", "cpu", "--data-root", str(data), "--threads", "1"]
    stopped = cli(*common, "--stop-after-rounds", "4")
    assert stopped.returncode == 3, stopped.stderr
    assert not (out / "rounds.csv").exists()
    assert "[tiny_mnist1d seed 0] imp round 0/2 density 1.000 test_acc " in stopped.stderr
    resumed = cli(*common)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming: 4 of 15 rounds already done" in resumed.stderr
    assert "] imp round 0" not in resumed.stderr, "imp's round 0 was done before the stop"
    with open(out / "rounds.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == ROW_FIELDS
    assert [(r["method"], r["round"]) for r in rows][:4] == \
        [("imp", "0"), ("imp", "1"), ("imp", "2"), ("imp_rewind", "0")]
    assert (out / "provenance.json").exists()

    with one_torch_thread():
        cfg = experiment_config(TINY_SET, "tiny_mnist1d")
        straight = run_trial("tiny_mnist1d", cfg, 0, tmp_path / "straight",
                             device=torch.device("cpu"), data_root=data, log=lambda line: None)
    assert [{k: str(v) for k, v in row.items()} for row in straight] == rows
    assert_same_masks(out, tmp_path / "straight")


@pytest.mark.parametrize("args, expected", [
    (["--experiment", "nope"], "no experiment named 'nope'"),
    (["--experiment", "tiny_mnist1d", "--device", "tpu"], "--device tpu"),
    (["--experiment", "tiny_mnist1d", "--seed", "-1"], "--seed must be >= 0"),
])
def test_cli_bad_input_is_one_line(tmp_path, capsys, args, expected):
    base = {"--experiments-file": str(TINY_SET), "--seed": "0", "--out": str(tmp_path / "o")}
    for flag in args[::2]:
        base.pop(flag, None)
    flat = [item for pair in base.items() for item in pair]
    assert trial_module.main([*flat, *args]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], lines


def test_cli_bad_config_names_file_and_line(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(TINY_SET.read_text().replace("iterations: 20,", "iterations: 20, iters: 3,"))
    code = trial_module.main(["--experiments-file", str(bad), "--experiment", "tiny_mnist1d",
                              "--seed", "0", "--out", str(tmp_path / "o")])
    assert code == 2
    err = capsys.readouterr().err
    line = next(i for i, text in enumerate(bad.read_text().splitlines(), 1) if "iters: 3" in text)
    assert f"{bad}:{line}:" in err and "'iters'" in err
    assert not (tmp_path / "o").exists(), "nothing written for a bad config"
