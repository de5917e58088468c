"""Helpers for the journey tests: a project laid out as a fresh clone or a fork, and Snakemake
run as a user types it (in a terminal whose input stays open, or killed midway)."""
from __future__ import annotations

import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.checkout import checkout_env

ROOT = Path(__file__).resolve().parents[2]
FORK = Path(__file__).resolve().parent / "fork"
SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def fresh_clone(destination: Path) -> Path:
    """The files git tracks, as they are in this checkout (a clone of it, uncommitted edits
    included): no results, no build, no Snakemake state."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True,
                            stdin=subprocess.DEVNULL)
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = ROOT / name
        if source.is_file() and not name.startswith("tests/"):
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination


def fork(destination: Path) -> Path:
    """A fresh clone whose chapters, bibliography, table template and experiment set are the
    fork's own (tests/workflow/fork), as a student's thesis would be."""
    fresh_clone(destination)
    shutil.rmtree(destination / "chapters")
    shutil.copytree(FORK, destination, dirs_exist_ok=True)
    config = destination / "config" / "config.yaml"
    config.write_text(config.read_text().replace("config/experiments/default.yaml",
                                                 "config/experiments/mine.yaml"))
    metadata = destination / "metadata.yaml"
    metadata.write_text(metadata.read_text().replace("Winning Tickets", "A Forked Thesis"))
    return destination


def snakemake(project: Path, *args: str, timeout: float = 600,
              env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Snakemake as typed at a prompt; its stdin is closed, as in CI. `env` adds variables."""
    return subprocess.run([*SNAKEMAKE, *args], cwd=project, capture_output=True, text=True,
                          timeout=timeout, env={**checkout_env(), **(env or {})},
                          stdin=subprocess.DEVNULL)


def in_terminal(project: Path, *args: str, timeout: float) -> tuple[int | None, str]:
    """Run Snakemake with a pseudo-terminal as stdin, stdout and stderr, its input left open
    (nothing is typed, nothing closes it). Returns (exit status, or None when it was still
    running after `timeout` seconds and was killed; what it printed)."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen([*SNAKEMAKE, *args], cwd=project, env=checkout_env(),
                               stdin=terminal, stdout=terminal, stderr=terminal,
                               start_new_session=True)
    os.close(terminal)
    printed, deadline = b"", time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        printed += _read_available(controller)
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    printed += _read_available(controller)
    os.close(controller)
    return process.returncode if process.returncode >= 0 else None, printed.decode(errors="replace")


def _read_available(controller: int) -> bytes:
    ready, _, _ = select.select([controller], [], [], 0.2)
    try:
        return os.read(controller, 65536) if ready else b""
    except OSError:  # the terminal's other side is closed: the process has exited
        return b""


def kill_when(project: Path, args: list[str], ready, timeout: float = 300) -> None:
    """Start Snakemake and kill it and all its jobs with SIGKILL once `ready()` is true."""
    process = subprocess.Popen([*SNAKEMAKE, *args], cwd=project, env=checkout_env(),
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + timeout
    while not ready():
        assert process.poll() is None, "Snakemake finished before the moment to kill it"
        assert time.monotonic() < deadline, "the moment to kill Snakemake never came"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
