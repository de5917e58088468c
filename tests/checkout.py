"""Subprocesses that run a copied project must import this checkout's packages.

A copied project has no experiments/ or manuscript/ of its own, so Python would find them through
the environment's editable install, which may point at another clone; PYTHONPATH comes first.
"""
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def checkout_env() -> dict[str, str]:
    """The current environment with this checkout first on PYTHONPATH."""
    paths = [str(ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
