"""Provenance block: who made a results file or a figure, from what, and when.

Every ``summary.json`` carries this block under ``"provenance"`` and every figure writes it as
``figures/NAME.provenance.json`` (see ARCHITECTURE.md).  The keys, in order::

    experiment, rule, config_file, config, config_hash, seeds,
    code_commit, code_dirty, torch_version, device, date, wall_time_s

``code_commit`` is the full hash of ``HEAD`` of the checkout that holds this package and
``code_dirty`` says whether tracked files differ from it.  Untracked files never count: the
workflow's own outputs (results/, figures/*.pdf, logs/) are untracked by design and must not make
every run look dirty.  Outside a git checkout, or without git, ``code_commit`` is ``"unknown"``
and ``code_dirty`` is ``null`` (we cannot tell).  ``date`` is an ISO 8601 timestamp in UTC to
the second.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import importlib.util
import os
import re
import subprocess
from pathlib import Path

from experiments.config import config_hash

UNKNOWN = "unknown"

# The checkout whose commit describes the code: the one that contains this package.
PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def _git(repo_dir: Path, *args: str) -> str | None:
    """Output of one git command in ``repo_dir``, or None when git cannot answer."""
    # Optional locks off: `git status` may otherwise take index.lock and race with a
    # colleague's git command in the same tree.
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    try:
        done = subprocess.run(
            ["git", "-C", str(repo_dir), *args],
            capture_output=True, text=True, env=env, timeout=30, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def git_state(repo_dir: Path | str = PACKAGE_ROOT) -> tuple[str, bool | None]:
    """(commit hash, dirty flag) of the checkout at ``repo_dir``; ("unknown", None) outside one."""
    repo_dir = Path(repo_dir)
    commit = _git(repo_dir, "rev-parse", "--verify", "HEAD")
    if commit is None:
        return UNKNOWN, None
    status = _git(repo_dir, "status", "--porcelain", "--untracked-files=no")
    dirty = None if status is None else bool(status.strip())
    return commit.strip(), dirty


def torch_version() -> str:
    """The torch version with its build tag (e.g. 2.15.0+cu132: which CUDA it was built for).

    Read from torch/version.py instead of importing torch, which takes seconds that aggregation,
    figures and every Snakemake start would otherwise pay for one string.
    """
    spec = importlib.util.find_spec("torch")
    if spec is None or spec.origin is None:
        return "not installed"
    text = (Path(spec.origin).parent / "version.py").read_text(encoding="utf-8")
    match = re.search(r"^__version__\s*=\s*['\"]([^'\"]+)", text, re.M)
    return match[1] if match else importlib.metadata.version("torch")


def utc_now_iso() -> str:
    """The current time in UTC as ISO 8601 to the second, e.g. 2026-11-21T10:00:00+00:00."""
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()


def collect_provenance(
    *,
    experiment: str,
    rule: str,
    config_file: str,
    config: dict,
    seeds: list[int],
    device: str,
    wall_time_s: float | None = None,
) -> dict:
    """The provenance block of ARCHITECTURE.md for one output of ``rule`` on ``experiment``."""
    commit, dirty = git_state()
    return {
        "experiment": experiment,
        "rule": rule,
        "config_file": str(config_file),
        "config": config,
        "config_hash": config_hash(config),
        "seeds": [int(seed) for seed in seeds],
        "code_commit": commit,
        "code_dirty": dirty,
        "torch_version": torch_version(),
        "device": device,
        "date": utc_now_iso(),
        "wall_time_s": None if wall_time_s is None else round(float(wall_time_s), 3),
    }
