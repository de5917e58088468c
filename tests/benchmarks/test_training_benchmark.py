"""The training benchmark runs all three variants on a tiny amount of work and prints the
figures the issue asks for: rates, ratio and peak memory."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_benchmark_prints_rates_ratio_and_memory(tmp_path):
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "training.py"), "--workload", "mnist1d_mlp",
         "--models", "2", "--iterations", "5", "--device", "cpu", "--threads", "1",
         "--data-root", str(tmp_path)],
        capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "mnist1d_mlp: 2 networks x 5 iterations on cpu (1 threads)" in out
    for variant in ("reference", "alone", "stacked"):
        assert re.search(rf"{variant} +[\d.]+ networks x iterations/s .* peak RSS \d+ MB", out), out
    assert "2 per stack, estimated" in out
    assert re.search(r"ratio stacked / reference: \d+\.\dx", out)


def test_conv_workload_prints_gflops_against_the_peak(tmp_path):
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "training.py"), "--workload", "mnist1d_conv",
         "--models", "2", "--iterations", "3", "--device", "cpu", "--threads", "1",
         "--data-root", str(tmp_path)],
        capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert re.search(r"peak: \d+ GFLOP/s \(float32 2048x2048 matrix product", out), out
    for variant in ("reference", "alone", "stacked", "grouped"):
        assert re.search(rf"{variant} +[\d.]+ networks x iterations/s .* GFLOP/s \(\d+% of peak\)",
                         out), out
    assert re.search(r"grouped / reference: \d+\.\dx", out)
