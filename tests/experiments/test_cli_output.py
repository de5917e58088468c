"""What the command lines show and leave behind: one progress line per finished round, and for
a file that cannot be written (a full disk, a path through a file) one line ``PATH: reason``,
a non-zero exit and no output file, whole or partial."""

from __future__ import annotations

import os
import re
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from experiments import aggregate, atomic, figures, inference

from .test_aggregate import EXPERIMENT_SET, TRIALS, write_rounds
from .test_figures import EXPERIMENT_SET as FIGURE_SET, write_results
from .test_inference import experiments_file as inference_set
from .test_trial import TINY_SET, REPO, cli

TINY = ["--experiments-file", str(TINY_SET), "--experiment", "tiny_mnist1d", "--threads", "1"]
PROGRESS = re.compile(r"\[tiny_mnist1d seed (\d)\] (\w+) round (\d)/2 density (\d\.\d{3}) "
                      r"test_acc (\d\.\d{3}) \(\d+\.\ds\) \| (\d+)/30 rounds, "
                      r"\d+:\d\d elapsed, about \d+:\d\d left")


def test_trial_shows_one_progress_line_per_round_and_logs_the_rest(tmp_path):
    log = tmp_path / "logs" / "trial.log"
    out = str(tmp_path / "seeds" / "{seed}")
    data = ["--data-root", str(tmp_path / "data"), "--device", "cpu"]
    stopped = cli(*TINY, "--seed", "0", "--seed", "1", "--out", out, *data,
                  "--stop-after-rounds", "4")
    assert stopped.returncode == 3
    result = cli(*TINY, "--seed", "0", "--seed", "1", "--out", out, *data, "--log", str(log))
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    matches = [PROGRESS.fullmatch(line) for line in lines]
    assert all(matches), [line for line, m in zip(lines, matches) if not m]
    before = [PROGRESS.fullmatch(line) for line in stopped.stderr.splitlines()[:-1]]
    assert all(before) and "stopped after 4 rounds" in stopped.stderr.splitlines()[-1]
    # 2 seeds x 5 methods x 3 rounds: each once, counted across the stop and the resume.
    assert [int(m[6]) for m in before + matches] == list(range(1, 31))
    assert sorted((m[1], m[2], m[3]) for m in before + matches) == sorted(
        (seed, method, r) for seed in "01" for r in "012"
        for method in ("imp", "imp_rewind", "oneshot", "reinit", "random"))
    assert lines[-1].endswith("about 0:00 left")
    logged = log.read_text().splitlines()
    assert [line for line in logged if PROGRESS.fullmatch(line)] == lines
    assert any("resuming: 2 of 15 rounds already done" in line for line in logged)


def limited_file_size(limit: int):
    """For a child process: files may grow to ``limit`` bytes; a larger write fails (EFBIG), as
    on a full disk, instead of the default SIGXFSZ killing the process."""
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def run_module(module: str, args: list[str], limit: int | None = None,
               cwd: Path = REPO) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, "-m", module, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
                          preexec_fn=limited_file_size(limit) if limit else None)


def one_error_line(result: subprocess.CompletedProcess, prog: str, code: int) -> str:
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{prog}: error: "), result.stderr
    return lines[0].removeprefix(f"{prog}: error: ")


def test_aggregate_on_a_full_disk_leaves_no_output(tmp_path):
    config = tmp_path / "set.yaml"
    config.write_text(EXPERIMENT_SET)
    files = [str(write_rounds(tmp_path / "seeds" / str(seed) / "rounds.csv", seed, rows))
             for seed, rows in TRIALS.items()]
    out = tmp_path / "out"
    # rounds.csv (about 1 kB) fits, summary.json (several kB) does not.
    result = run_module("experiments.aggregate", ["--experiments-file", str(config),
                        "--experiment", "tiny", "--out", str(out), *files], limit=2000)
    assert one_error_line(result, "aggregate", 1) == f"{out / 'summary.json'}: File too large"
    assert list(out.iterdir()) == [], "neither file, nor a temporary one"


def test_figure_into_a_path_through_a_file_is_one_line(tmp_path):
    config = tmp_path / "set.yaml"
    config.write_text(FIGURE_SET)
    write_results(tmp_path / "results" / "tiny")
    (tmp_path / "figures").write_text("a file where the folder should be")
    result = run_module("experiments.figures", [
        "--experiments-file", str(config), "--figure", "tiny_accuracy",
        "--results", str(tmp_path / "results" / "tiny"),
        "--out", str(tmp_path / "figures" / "tiny_accuracy.pdf")])
    assert one_error_line(result, "figures", 1) == f"{tmp_path / 'figures'}: File exists"


def test_trial_with_a_full_log_disk_is_one_line(tmp_path):
    result = cli(*TINY, "--seed", "0", "--out", str(tmp_path / "out"), "--device", "cpu",
                 "--data-root", str(tmp_path / "data"), "--log", "/dev/full")
    # The first progress line reached the terminal before its copy for the log failed.
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == "trial: error: /dev/full: No space left on device"
    assert len(result.stderr.splitlines()) == 2
    assert not (tmp_path / "out" / "rounds.csv").exists()


def test_trial_on_a_full_disk_is_one_line(tmp_path):
    """The first file too large for the limit is the generated MNIST-1D cache."""
    result = run_module("experiments.trial", [*TINY, "--seed", "0", "--out", str(tmp_path / "o"),
                        "--device", "cpu", "--data-root", str(tmp_path / "data")], limit=4096)
    message = one_error_line(result, "trial", 2)
    assert re.fullmatch(rf"{tmp_path / 'data' / 'mnist1d'}/\w+\.npz: File too large", message)
    assert list((tmp_path / "data" / "mnist1d").iterdir()) == []


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_cuda_fails_before_writing_or_deleting(tmp_path):
    out, log = tmp_path / "out", tmp_path / "trial.log"
    common = [*TINY, "--seed", "0", "--out", str(out), "--data-root", str(tmp_path / "data")]
    assert cli(*common, "--device", "cpu", "--stop-after-rounds", "2").returncode == 3
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    result = cli(*common, "--device", "cuda", "--log", str(log))
    assert "--device cuda: device 'cuda' requested but CUDA is not available" in \
        one_error_line(result, "trial", 2)
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before, \
        "the CPU state (another device kind) is still there, and no log was made"


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_inference_on_cuda_without_cuda_writes_nothing(tmp_path, capsys):
    code = inference.main(["--experiments-file", str(inference_set(tmp_path)), "--experiment",
                           "tiny", "--out", str(tmp_path / "x.csv"), "--device", "cuda",
                           "--log", str(tmp_path / "x.log")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "CUDA is not available" in err
    assert not (tmp_path / "x.csv").exists() and not (tmp_path / "x.log").exists()


def test_log_option_keeps_stderr_quiet(tmp_path, capsys):
    """aggregate and figures with --log: the detail in the file, nothing on stderr."""
    config = tmp_path / "set.yaml"
    config.write_text(FIGURE_SET)
    write_results(tmp_path / "results" / "tiny")
    assert figures.main(["--experiments-file", str(config), "--figure", "tiny_accuracy",
                         "--results", str(tmp_path / "results" / "tiny"),
                         "--out", str(tmp_path / "f.pdf"), "--log", str(tmp_path / "f.log")]) == 0
    assert capsys.readouterr().err == ""
    assert f"-> {tmp_path / 'f.pdf'}" in (tmp_path / "f.log").read_text()


def test_a_write_sweeps_the_temporary_files_a_kill_left(tmp_path):
    target = tmp_path / "summary.json"
    stale = [tmp_path / ".summary.json.a1b2c3d4.tmp", tmp_path / ".summary.json.zz_99xyz.tmp"]
    other = [tmp_path / ".rounds.csv.a1b2c3d4.tmp", tmp_path / ".summary.json.notours.tmp"]
    for path in stale + other:
        path.write_text("half")
    atomic.write_text(target, "{}\n")
    assert target.read_text() == "{}\n"
    assert [path.exists() for path in stale + other] == [False, False, True, True]


def test_a_write_spares_the_temporary_file_of_a_writer_still_running(tmp_path):
    """Trials that start together all write the same dataset cache; one's sweep must not
    delete another's half-written file (a fresh build failed so with 'No such file')."""
    ended = subprocess.Popen(["true"], stdin=subprocess.DEVNULL)
    ended.wait()
    host = atomic._host()
    dead = tmp_path / f".cache.npz.{host}-{ended.pid}.a1b2c3d4.tmp"
    alive = tmp_path / f".cache.npz.{host}-{os.getpid()}.a1b2c3d4.tmp"
    elsewhere = tmp_path / f".cache.npz.another-node-{ended.pid}.a1b2c3d4.tmp"
    for path in (dead, alive, elsewhere):
        path.write_text("half")
    atomic.write_bytes(tmp_path / "cache.npz", b"whole")
    assert [dead.exists(), alive.exists(), elsewhere.exists()] == [False, True, True]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")
                and p not in (alive, elsewhere)]


def test_aggregate_sweeps_its_stale_outputs(tmp_path, capsys):
    config = tmp_path / "set.yaml"
    config.write_text(EXPERIMENT_SET)
    files = [str(write_rounds(tmp_path / "seeds" / str(seed) / "rounds.csv", seed, rows))
             for seed, rows in TRIALS.items()]
    out = tmp_path / "out"
    out.mkdir()
    (out / ".rounds.csv.k1lled00.tmp").write_text("method,se")
    assert aggregate.main(["--experiments-file", str(config), "--experiment", "tiny",
                           "--out", str(out), *files]) == 0
    assert sorted(path.name for path in out.iterdir()) == ["rounds.csv", "summary.json"]
