"""The workflow's own style checks, as the README states them: `snakefmt --check` leaves the
Snakefile and rule files unchanged, and `snakemake --lint` finds only the per-rule conda
environment, which a pip-only project does not use."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CONDA = "Specify a conda environment or container for each rule."


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, stdin=subprocess.DEVNULL)


def test_snakefmt_leaves_the_snakefile_and_rules_as_they_are():
    check = run(sys.executable, "-m", "snakefmt", "--check", "Snakefile", "rules/")
    assert check.returncode == 0, check.stdout + check.stderr


def test_lint_finds_only_the_conda_environment_on_each_rule():
    lint = run(sys.executable, "-m", "snakemake", "--lint")
    findings = set(re.findall(r"^\s+\* (.+?):?$", lint.stdout + lint.stderr, re.M))
    assert findings == {CONDA}, lint.stdout + lint.stderr
