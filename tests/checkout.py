"""Subprocesses that run a copied project must import this checkout's packages.

A copied project has no experiments/ or manuscript/ of its own, so Python would find them through
the environment's editable install, which may point at another clone; PYTHONPATH comes first.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def checkout_env() -> dict[str, str]:
    """The current environment with this checkout first on PYTHONPATH."""
    paths = [str(ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def modules_imported_by(code: str) -> set[str]:
    """The modules a fresh interpreter has loaded after running ``code`` in this checkout (its
    input closed: it must never wait on the terminal that runs the tests)."""
    report = "; import sys, json; print(json.dumps(sorted(sys.modules)))"
    shown = subprocess.run([sys.executable, "-c", code + report], cwd=ROOT, env=checkout_env(),
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, check=True,
                           timeout=120)
    return set(json.loads(shown.stdout.splitlines()[-1]))
