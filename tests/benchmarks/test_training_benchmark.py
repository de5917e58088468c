"""The training benchmark runs all three variants on a tiny amount of work and prints the
figures the issue asks for: rates, ratio and peak memory."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_benchmark(data_root, workload: str, iterations: int) -> str:
    """What `benchmarks/training.py` prints for two networks of `workload` on one CPU thread."""
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "training.py"), "--workload", workload,
         "--models", "2", "--iterations", str(iterations), "--device", "cpu", "--threads", "1",
         "--data-root", str(data_root)],
        capture_output=True, text=True, timeout=300, check=False, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_benchmark_prints_rates_ratio_and_memory(tmp_path):
    out = run_benchmark(tmp_path, "mnist1d_mlp", iterations=5)
    assert "mnist1d_mlp: 2 networks x 5 iterations on cpu (1 threads)" in out
    for variant in ("reference", "alone", "stacked"):
        assert re.search(rf"{variant} +[\d.]+ networks x iterations/s .* peak RSS \d+ MB", out), out
    assert "2 per stack, estimated" in out
    assert re.search(r"ratio stacked / reference: \d+\.\dx", out)


def test_conv_workload_prints_gflops_against_the_peak(tmp_path):
    out = run_benchmark(tmp_path, "mnist1d_conv", iterations=3)
    assert re.search(r"peak: \d+ GFLOP/s \(float32 2048x2048 matrix product", out), out
    for variant in ("reference", "alone", "stacked", "grouped"):
        assert re.search(rf"{variant} +[\d.]+ networks x iterations/s .* GFLOP/s \(\d+% of peak\)",
                         out), out
    assert re.search(r"grouped / reference: \d+\.\dx", out)
