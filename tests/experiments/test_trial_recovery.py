"""A trial whose state files are unreadable redoes the rounds that wrote them, ending with the
same masks and rows as a run that never saw the damage; a diverging run is one line."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import experiments.trial as trial_module
from experiments.trial import StopTrial, TrialError, run_trial

from .test_methods import toy_config
from .test_training import tiny_dataset
from .test_trial import TINY_SET, cli, state_files

CPU = torch.device("cpu")
pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def toy(monkeypatch):
    monkeypatch.setattr(trial_module, "load_dataset", lambda *args, **kwargs: tiny_dataset())


def run(cfg: dict, out: Path, lines: list[str] | None = None, **kwargs) -> list[dict]:
    record = (lines.append if lines is not None else (lambda line: None))
    return run_trial("toy", cfg, 0, out, device=CPU, data_root=out, log=record,
                     progress=lambda line: None, **kwargs)


def stop_after(count: int):
    finished = []

    def after_round(method: str, round_index: int) -> None:
        finished.append((method, round_index))
        if len(finished) == count:
            raise StopTrial("simulated kill")

    return after_round


def damaged_run(cfg: dict, out: Path, stop: int, damage: str,
                how: bytes) -> tuple[list[dict], list[str]]:
    """Stop after ``stop`` rounds, overwrite the state file ``damage`` with ``how`` and resume;
    the resumed run's rows and log lines."""
    with pytest.raises(StopTrial):
        run(cfg, out, after_round=stop_after(stop))
    target = out / "state" / damage
    assert target.exists(), f"{damage} should exist after {stop} rounds"
    target.write_bytes(how)
    lines: list[str] = []
    return run(cfg, out, lines), lines


@pytest.mark.parametrize("stop, damage, how, redone", [
    # A row: its round runs again.
    (6, "rows/imp_round_01.json", b'{"method": "im', ["imp round 1"]),
    # A mask later rounds read (oneshot, reinit and random of round 1, imp's round 2).
    (6, "masks/imp_round_01.pt", b"", ["imp round 1"]),
    # A mask whose remaking needs weights deleted since: the round before it is redone too.
    (15, "masks/imp_round_02.pt", b"PK\x03\x04 cut short", ["imp round 2", "imp round 1"]),
    # The trained weights of the latest imp round.
    (15, "weights/imp_round_02_final.pt", b"", ["imp round 2"]),
    # theta_0: made again from the seed.
    (3, "init.pt", b"", []),
])
def test_unreadable_state_is_redone_to_the_same_results(tmp_path, toy, stop, damage, how,
                                                         redone):
    cfg = toy_config(tmp_path)
    expected = run(cfg, tmp_path / "straight")
    rows, lines = damaged_run(cfg, tmp_path / "damaged", stop, damage, how)
    assert rows == expected
    assert state_files(tmp_path / "damaged") == state_files(tmp_path / "straight")
    assert [line.split(" redoing ")[1].split(":")[0] for line in lines
            if " redoing " in line] == redone
    assert any(damage in line and "unreadable trial state" in line for line in lines), lines
    assert redone or any("made again from the seed" in line for line in lines)


def test_unreadable_trial_json_stops_with_the_command_that_redoes_it(tmp_path, toy):
    cfg = toy_config(tmp_path)
    with pytest.raises(StopTrial):
        run(cfg, tmp_path / "out", after_round=stop_after(2))
    (tmp_path / "out" / "state" / "trial.json").write_bytes(b"")
    rows_before = sorted((tmp_path / "out" / "state" / "rows").iterdir())
    with pytest.raises(TrialError, match=r"trial\.json: unreadable trial state .*; to redo this "
                                         r"trial from scratch: rm -r '.*state' and rerun"):
        run(cfg, tmp_path / "out")
    assert sorted((tmp_path / "out" / "state" / "rows").iterdir()) == rows_before, \
        "nothing is deleted while it is unknown whose state it is"


def test_diverging_run_is_one_line_naming_round_and_setting(tmp_path):
    config = tmp_path / "set.yaml"
    config.write_text(TINY_SET.read_text().replace(
        "lr: 0.01, batch_size: 50, iterations: 20", "lr: 1.0e+30, batch_size: 50, iterations: 20"))
    result = cli("--experiments-file", str(config), "--experiment", "tiny_mnist1d", "--seed", "0",
                 "--out", str(tmp_path / "out"), "--device", "cpu", "--threads", "1",
                 "--data-root", str(tmp_path / "data"), "--log", str(tmp_path / "trial.log"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"trial: error: {config}: experiment tiny_mnist1d, method imp, "
                               "seed 0, round 0: training diverged at iteration 10 ")
    assert lines[0].endswith("lower training.lr (now 1e+30)")
    assert lines[0] in (tmp_path / "trial.log").read_text()
