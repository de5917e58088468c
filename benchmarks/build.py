"""Time a fresh build and say where its time went: per experiment, and the critical path.

    python benchmarks/build.py [--target thesis.pdf] [--cores 2] [--keep DIR]
    python benchmarks/build.py --analyse DIR      # a finished build's .snakemake/metadata only

Without ``--analyse`` it copies the checkout's tracked files (and uncommitted edits) into a fresh
folder, links the virtual environment, runs ``snakemake --cores N TARGET`` there, prints the wall
time, then analyses the folder. Nothing of the checkout is written (no results, no .snakemake).

The analysis reads Snakemake's own record of every job (``.snakemake/metadata``: rule, inputs,
start and end time, one record per output file) and prints

- the wall time from the first job's start to the last job's end, the sum of job times and the
  cores that sum kept busy on average (sum / wall);
- the time per experiment (jobs whose outputs lie under ``results/EXPERIMENT/``) and per other
  rule (figures, diagrams, the thesis);
- the critical path: from the job that ended last, each step back goes to the input's producer
  that ended last, so the printed chain is what the build actually waited for, with the gap
  before each job (a gap is time the job was ready but had no free core, or the scheduler's
  own delay).

Job times are wall times: when more jobs run than there are cores, each takes longer.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Job:
    rule: str
    start: float
    end: float
    inputs: list[str]
    outputs: list[str] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return self.end - self.start

    @property
    def family(self) -> str:
        """The experiment whose results it writes (results/E/... or its staged copy), else its
        rule."""
        for path in self.outputs:
            parts = Path(path).parts
            if "results" in parts and parts.index("results") + 1 < len(parts) - 1:
                return parts[parts.index("results") + 1]
        return self.rule


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--analyse", metavar="DIR", help="analyse a finished build, run nothing")
    parser.add_argument("--target", default="thesis.pdf")
    parser.add_argument("--cores", type=int, default=os.cpu_count())
    parser.add_argument("--keep", metavar="DIR", help="build in DIR (kept) instead of a temporary")
    parser.add_argument("snakemake_args", nargs="*", help="passed on to snakemake (after --)")
    args = parser.parse_args(argv)
    if args.analyse:
        report(load_jobs(Path(args.analyse)), None)
        return 0
    folder = Path(args.keep or tempfile.mkdtemp(prefix="fresh-build-"))
    fresh_copy(folder)
    command = [str(REPO / ".venv" / "bin" / "snakemake"), "--cores", str(args.cores),
               args.target, *args.snakemake_args]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=folder, check=False, stdin=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    print(f"fresh build of {args.target} with --cores {args.cores}: {wall:.0f} s "
          f"(exit {done.returncode}) in {folder}")
    report(load_jobs(folder), wall)
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    return done.returncode


def fresh_copy(folder: Path) -> None:
    """The checkout's tracked and untracked-but-not-ignored files, copied into ``folder``, with
    the virtual environment linked: a build there starts from nothing."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=REPO, capture_output=True, check=True,
                            stdin=subprocess.DEVNULL).stdout.split(b"\0")
    for name in filter(None, listed):
        source, target = REPO / name.decode(), folder / name.decode()
        if source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    (folder / ".venv").symlink_to(REPO / ".venv")


def load_jobs(folder: Path) -> list[Job]:
    """One Job per Snakemake job recorded in ``folder/.snakemake/metadata``."""
    jobs: dict[int, Job] = {}
    for record_file in (folder / ".snakemake" / "metadata").iterdir():
        record = json.loads(record_file.read_text())
        if record.get("incomplete") or None in (record.get("starttime"), record.get("endtime")):
            continue  # a killed or running job: no time to report
        job = jobs.setdefault(record["job_hash"], Job(record["rule"], record["starttime"],
                                                      record["endtime"], record["input"]))
        job.outputs.append(base64.urlsafe_b64decode(record_file.name).decode())
    # A killed job may keep its record; its outputs are gone.
    return [job for job in jobs.values()
            if all((folder / path).exists() for path in job.outputs)]


def critical_path(jobs: list[Job]) -> list[Job]:
    """The chain the build waited for, last job first (module docstring)."""
    producer = {path: job for job in jobs for path in job.outputs}
    chain = [max(jobs, key=lambda job: job.end)]
    while True:
        before = [producer[path] for path in chain[-1].inputs if path in producer]
        if not before:
            return chain
        chain.append(max(before, key=lambda job: job.end))


def report(jobs: list[Job], wall: float | None) -> None:
    start, end = min(job.start for job in jobs), max(job.end for job in jobs)
    busy = sum(job.seconds for job in jobs)
    print(f"jobs: {len(jobs)}, first start to last end {end - start:.0f} s, sum of job times "
          f"{busy:.0f} s ({busy / (end - start):.2f} jobs running on average)")
    families: dict[str, list[Job]] = defaultdict(list)
    for job in jobs:
        families[job.family].append(job)
    print("time per experiment (sum of its jobs' wall times; span first start to last end):")
    for name, members in sorted(families.items(), key=lambda item: -sum(j.seconds
                                                                         for j in item[1])):
        span = max(j.end for j in members) - min(j.start for j in members)
        print(f"  {name:<32} {sum(j.seconds for j in members):7.1f} s in {len(members):2} jobs, "
              f"span {span:6.1f} s")
    print("critical path (first job first): gap before it, its time, rule, an output")
    for job in reversed(critical_path(jobs)):
        ready = max([p.end for p in jobs for path in job.inputs if path in p.outputs],
                    default=start)
        print(f"  +{job.start - ready:6.1f} s wait  {job.seconds:7.1f} s  {job.rule:<26} "
              f"{sorted(job.outputs)[0]}")


if __name__ == "__main__":
    sys.exit(main())
