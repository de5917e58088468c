"""Commands from the README and from Snakemake's own messages, typed in a fresh clone."""
import pytest

from tests.workflow.journeys import fresh_clone, snakemake


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    return fresh_clone(tmp_path_factory.mktemp("clone"))


def test_the_paper_set_plans_its_jobs(clone):
    run = snakemake(clone, "--cores", "4", "-n", "results/lenet_mnist/summary.json", "--config",
                    "experiments_file=config/experiments/paper.yaml", "data_root=/path/to/data")
    assert run.returncode == 0, run.stderr[-2000:]
    assert "trials_lenet_mnist" in run.stdout and "publish_experiment" in run.stdout


def test_the_paper_set_runs_until_its_data_is_missing(clone, tmp_path):
    # No download can succeed (a proxy on a closed local port), wherever the test runs.
    offline = {"http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9"}
    run = snakemake(clone, "--cores", "4", "results/lenet_mnist/summary.json", "--config",
                    "experiments_file=config/experiments/paper.yaml", f"data_root={tmp_path}",
                    env=offline)
    assert run.returncode != 0
    # the one line, which Snakemake shows again with the failed job's log
    errors = {line for line in run.stderr.splitlines() if line.startswith("trial: error:")}
    assert len(errors) == 1, run.stderr[-3000:]
    error = errors.pop()
    assert f"{tmp_path}/MNIST/raw: download failed" in error
    assert "put the files train-images-idx3-ubyte, train-labels-idx1-ubyte" in error


@pytest.mark.parametrize("command", [["--unlock"], ["--summary"], ["--list-rules"]])
def test_commands_without_cores_work(clone, command):
    run = snakemake(clone, *command)
    assert run.returncode == 0, run.stderr[-2000:]


def test_report_before_a_build_names_a_missing_result(clone):
    # The report shows the published figures and results (report() in rules/publish.smk):
    # Snakemake refuses a report whose marked files are not made yet, and says which.
    run = snakemake(clone, "--report", "report.html")
    assert run.returncode != 0 and "marked for report but does not exist" in run.stderr


@pytest.mark.parametrize("setting, message", [
    ("trail_jobs=seed", "error: --config trail_jobs=seed: unknown key 'trail_jobs' (allowed: "),
    ("typst_server=flase", "error: --config typst_server=flase: expected boolean, got str 'flase'"),
    ("device=gpu", "error: --config device=gpu: expected auto, cpu, cuda or cuda:N, got 'gpu'"),
])
def test_a_mistyped_setting_is_one_line(clone, setting, message):
    run = snakemake(clone, "-n", "thesis.pdf", "--config", setting)
    assert run.returncode != 0 and run.stderr.strip().splitlines()[-1].startswith(message)


def test_a_bad_setting_in_the_config_file_names_its_line(clone, tmp_path):
    config = clone / "config" / "config.yaml"
    good = config.read_text()
    config.write_text(good.replace("trial_jobs: experiment", "trial_jobs: everything"))
    try:
        run = snakemake(clone, "-n", "thesis.pdf")
    finally:
        config.write_text(good)
    line = 1 + good.splitlines().index("trial_jobs: experiment")
    assert run.returncode != 0
    assert run.stderr.strip().splitlines()[-1] == (
        f"error: config/config.yaml:{line}: trial_jobs: unknown trial_jobs 'everything' "
        "(known: experiment, seed)")


def test_typst_server_false_is_understood(clone):
    run = snakemake(clone, "-n", "--cores", "1", "figures/lth_accuracy.pdf", "--config",
                    "typst_server=false")
    assert run.returncode == 0, run.stderr[-2000:]


def test_the_cluster_profile_plans_gpu_trials_and_no_typst_server(clone):
    pytest.importorskip("snakemake_executor_plugin_slurm",
                        reason="the executor plugin is not installed: pip install -e '.[slurm]'")
    # --config of the user's own leaves the profile's workflow settings in force
    run = snakemake(clone, "--profile", "profiles/slurm", "-n", "thesis.pdf", "--config",
                    "experiments_file=config/experiments/default.yaml")
    assert run.returncode == 0, run.stderr[-2000:]
    plan = run.stdout + run.stderr
    assert "python -m manuscript.build" in plan and "--typst-server" not in plan
    trials = plan[plan.index("rule trials_lth_mnist1d:"):]
    assert "gpu=1" in trials.split("Shell command")[0]
