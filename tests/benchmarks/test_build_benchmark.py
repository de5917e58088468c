"""The build benchmark's analysis of Snakemake's job records: time per experiment, and the
critical path as the chain of producers that ended last, with the waits before each job."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))

import build  # noqa: E402


def record(folder: Path, output: str, rule: str, start: float, end: float, inputs: list[str],
           job: int) -> None:
    name = base64.urlsafe_b64encode(output.encode()).decode()
    (folder.parents[1] / output).parent.mkdir(parents=True, exist_ok=True)
    (folder.parents[1] / output).touch()
    (folder / name).write_text(json.dumps({"rule": rule, "starttime": start, "endtime": end,
                                           "input": inputs, "job_hash": job}))


def test_families_and_the_critical_path(tmp_path, capsys):
    meta = tmp_path / ".snakemake" / "metadata"
    meta.mkdir(parents=True)
    record(meta, "results/a/seeds/0/rounds.csv", "trial", 0, 100, [], 1)
    record(meta, "results/b/seeds/0/rounds.csv", "trial", 0, 40, [], 2)
    record(meta, "results/b/seeds/1/rounds.csv", "trial", 40, 90, [], 3)
    record(meta, "results/a/summary.json", "aggregate", 101, 102,
           ["results/a/seeds/0/rounds.csv"], 4)
    record(meta, "thesis.pdf", "thesis", 105, 110,
           ["results/a/summary.json", "results/b/seeds/1/rounds.csv"], 5)
    jobs = build.load_jobs(tmp_path)
    assert [job.rule for job in reversed(build.critical_path(jobs))] == \
        ["trial", "aggregate", "thesis"]
    build.report(jobs, None)
    out = capsys.readouterr().out
    assert "first start to last end 110 s, sum of job times 196 s" in out
    assert "a " in out and "101.0 s in  2 jobs" in out and "90.0 s in  2 jobs" in out
    assert "+   3.0 s wait      5.0 s  thesis" in out
