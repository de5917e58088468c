"""A real one-node Slurm on this machine, for the tests: Debian's slurm-wlm and munge, their
daemons started by hand (there is no systemd) with a key, sockets, ports, state and logs of
their own under one folder, so nothing of a Slurm the machine may already run is touched, and
stopped by the PIDs started here.

The configuration goes where every Slurm program looks, /etc/slurm/slurm.conf (the job steps
that Snakemake starts inside a job with srun find it there, not through SLURM_CONF), so a
machine with a configuration of its own is left alone and the test skips. The file is removed
when the cluster stops.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

PACKAGES = ["slurm-wlm", "munge"]
SBIN = os.pathsep.join(["/usr/sbin", "/sbin", os.environ.get("PATH", "")])
PROGRAMS = ["munged", "slurmctld", "slurmd", "sbatch", "squeue"]
SYSTEM_CONF = Path("/etc/slurm/slurm.conf")


def why_not_available() -> str | None:
    """None when a Slurm can be started here, installing the packages if they are missing;
    else the reason, for the test's skip message."""
    if os.geteuid() != 0:
        return "not root: the test's Slurm daemons run as root (and installing them needs root)"
    if SYSTEM_CONF.exists():
        return f"this machine has a Slurm configuration of its own ({SYSTEM_CONF}); left alone"
    if all(shutil.which(p, path=SBIN) for p in PROGRAMS):
        return None
    if shutil.which("apt-get") is None:
        return "slurm-wlm and munge are missing and there is no apt-get to install them"
    install = ["apt-get", "install", "-y", "--no-install-recommends", *PACKAGES]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    done = subprocess.run(install, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
    if done.returncode != 0:  # an old package list: update it once and try again
        subprocess.run(["apt-get", "update"], capture_output=True, env=env, stdin=subprocess.DEVNULL)
        done = subprocess.run(install, capture_output=True, text=True, env=env,
                              stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return f"no package access: apt-get install {' '.join(PACKAGES)} failed ({last})"
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def slurm_conf(folder: Path, node: str) -> str:
    """One node, this host, with its CPUs and most of its memory; no accounting database
    (job status then comes from squeue only), no cgroups (none to be had in a container)."""
    memory_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    return "\n".join([
        "ClusterName=thesistest", f"SlurmctldHost={node}(127.0.0.1)",
        f"SlurmctldPort={free_port()}", f"SlurmdPort={free_port()}",
        "AuthType=auth/munge", "CredType=cred/munge", f"AuthInfo=socket={folder}/munge.socket",
        "SlurmUser=root", "SlurmdUser=root", f"StateSaveLocation={folder}/state",
        f"SlurmdSpoolDir={folder}/spool", f"SlurmctldPidFile={folder}/slurmctld.pid",
        f"SlurmdPidFile={folder}/slurmd.pid", f"SlurmctldLogFile={folder}/slurmctld.log",
        f"SlurmdLogFile={folder}/slurmd.log", "ProctrackType=proctrack/linuxproc",
        "TaskPlugin=task/none", "JobAcctGatherType=jobacct_gather/none",
        "AccountingStorageType=accounting_storage/none", "SelectType=select/cons_tres",
        "SelectTypeParameters=CR_Core_Memory", "MpiDefault=none", "ReturnToService=2",
        "MinJobAge=300",  # finished jobs stay in squeue this long: the plugin's status source
        f"NodeName={node} NodeAddr=127.0.0.1 CPUs={os.cpu_count()} "
        f"RealMemory={int(memory_mb * 0.8)} State=UNKNOWN",
        f"PartitionName=test Nodes={node} Default=YES MaxTime=INFINITE State=UP", "",
    ])


class Cluster:
    """munged, slurmctld and slurmd in the foreground of processes started here."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.conf = SYSTEM_CONF
        self.env = {"SLURM_CONF": str(self.conf)}
        self.processes: list[subprocess.Popen] = []

    def start(self) -> None:
        for name in ("state", "spool"):
            (self.folder / name).mkdir(parents=True, exist_ok=True)
        node = socket.gethostname().split(".")[0]
        self.conf.parent.mkdir(parents=True, exist_ok=True)
        self.conf.write_text(slurm_conf(self.folder, node))
        key = self.folder / "munge.key"
        key.write_bytes(os.urandom(128))
        key.chmod(0o600)
        self._daemon(["munged", "-F", "-f", f"--socket={self.folder}/munge.socket",
                      f"--key-file={key}", f"--pid-file={self.folder}/munged.pid",
                      f"--seed-file={self.folder}/munged.seed",
                      f"--log-file={self.folder}/munged.log"])
        self._wait(lambda: (self.folder / "munge.socket").exists(), "munged's socket")
        self._daemon(["slurmctld", "-D", "-i", "-f", str(self.conf)])
        self._daemon(["slurmd", "-D", "-f", str(self.conf), "-N", node])
        self._wait(self._node_idle, "the node to come up idle (sinfo)")

    def stop(self) -> None:
        """End every daemon started here, by its PID, newest first."""
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self.conf.unlink(missing_ok=True)

    def log_tail(self, lines: int = 20) -> str:
        logs = [self.folder / name for name in ("slurmctld.log", "slurmd.log")]
        return "\n".join("\n".join(log.read_text().splitlines()[-lines:])
                         for log in logs if log.exists())

    def _daemon(self, command: list[str]) -> None:
        program = shutil.which(command[0], path=SBIN)
        log = open(self.folder / f"{command[0]}.out", "wb")
        self.processes.append(subprocess.Popen([program, *command[1:]], stdout=log,
                                               stderr=subprocess.STDOUT,
                                               stdin=subprocess.DEVNULL,
                                               env={**os.environ, **self.env}))

    def _node_idle(self) -> bool:
        shown = subprocess.run([shutil.which("sinfo", path=SBIN), "-h", "-o", "%t"],
                               capture_output=True, text=True, stdin=subprocess.DEVNULL,
                               env={**os.environ, **self.env})
        return shown.stdout.strip() == "idle"

    def _wait(self, ready, what: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            failed = [p.args[0] for p in self.processes if p.poll() is not None]
            if failed or time.monotonic() > deadline:
                raise RuntimeError(f"waiting for {what}: {failed or 'timed out'}\n"
                                   f"{self.log_tail()}")
            time.sleep(0.2)
