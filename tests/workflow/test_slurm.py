"""The forked thesis through a real one-node Slurm, with the README's cluster command: trials
are submitted as Slurm jobs, the quick steps run here, the PDF is made, and the results are byte
for byte those of a local run. Skips, saying why, where no Slurm can be had (not root, no
package access, no executor plugin)."""
import json
import subprocess
import sys
import time

import pytest

from tests.checkout import checkout_env
from tests.workflow.journeys import fork
from tests.workflow.slurm_cluster import Cluster, why_not_available
from tests.workflow.test_journeys import pdf_text

# The README's command, plus what this cluster needs: it has no GPUs, and a test need not wait
# the plugin's 40 s before its first status check.
COMMAND = ["--profile", "profiles/slurm", "thesis.pdf", "--config", "trial_gpus=0",
           "--slurm-init-seconds-before-status-checks", "2"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    reason = why_not_available()
    if reason:
        pytest.skip(reason)
    try:
        import snakemake_executor_plugin_slurm  # noqa: F401
    except ImportError:
        pytest.skip("the executor plugin is not installed: pip install -e '.[slurm]'")
    cluster = Cluster(tmp_path_factory.mktemp("slurm"))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def run(project, *args, env=None):
    return subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=project,
                          capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL,
                          env={**checkout_env(), **(env or {})})


@pytest.fixture(scope="module")
def on_slurm(cluster, tmp_path_factory):
    project = fork(tmp_path_factory.mktemp("cluster_fork"))
    started = time.monotonic()
    done = run(project, *COMMAND, env=cluster.env)
    print(f"thesis through Slurm: {time.monotonic() - started:.0f} s")
    assert done.returncode == 0, done.stderr[-4000:] + cluster.log_tail()
    return project, done


def test_the_thesis_is_made_through_slurm(on_slurm):
    project, done = on_slurm
    assert "Using profiles profiles/slurm and workflow specific profile" in done.stderr
    # the trials ran as a Slurm job; the quick steps ran here (localrule)
    submitted = [line for line in done.stderr.splitlines() if "submitted with SLURM jobid" in line]
    assert len(submitted) == 1 and "rule_trials_mini" in submitted[0], done.stderr[-3000:]
    for quick in ("aggregate", "figure", "thesis", "publish"):
        assert f"localrule {quick}:" in done.stderr
    text = pdf_text(project / "thesis.pdf")
    assert "A Forked Thesis" in text and "own table" in text
    assert not (project / "build" / "typst-server.sock").exists()


def test_results_are_those_of_a_local_run(on_slurm, tmp_path):
    project, _ = on_slurm
    local = fork(tmp_path / "local")
    done = run(local, "--cores", "2", "results/mini/summary.json")
    assert done.returncode == 0, done.stderr[-3000:]
    for name in ("rounds.csv", "seeds/0/rounds.csv", "seeds/1/rounds.csv"):
        assert (project / "results/mini" / name).read_bytes() == \
            (local / "results/mini" / name).read_bytes(), name
    cluster_summary = json.loads((project / "results/mini/summary.json").read_text())
    local_summary = json.loads((local / "results/mini/summary.json").read_text())
    for summary in (cluster_summary, local_summary):  # where and when, not what
        summary.pop("provenance"), summary.pop("trial_wall_time_s")
    assert cluster_summary == local_summary
