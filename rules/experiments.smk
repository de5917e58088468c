# The science: the trials of each experiment (one job for all its seeds, rule trials_EXPERIMENT,
# or with trial_jobs=seed one job per seed, rule trial), then one aggregate job per experiment.
#   snakemake --cores 4 results/lth_mnist1d/summary.json   one experiment (its trials if needed)
#   snakemake --cores 4 all_experiments                    every experiment of the set
# Trials resume from results/E/seeds/S/state/; to recompute an experiment from scratch delete
# results/E first. Editing an experiment reruns only what the edit affects: the hash of the
# settings a job depends on is one of its params, and Snakemake reruns jobs whose params changed
# (training, pruning, ... -> trials; report_densities -> aggregate; a figure spec -> that figure).
import re

from experiments.config import (STACKED_MODELS, ConfigError, config_hash, load_experiment_set,
                                summary_settings, trial_settings)
from experiments.devices import gpu_slots_per_trial

EXPERIMENTS_FILE = config["experiments_file"]
DATA_ROOT = config["data_root"]
DEVICE = config["device"]  # each trial resolves "auto" itself, with torch
TRIAL_JOBS = config["trial_jobs"]

try:
    EXPERIMENTS = load_experiment_set(EXPERIMENTS_FILE)  # name -> validated experiment config
    # One GPU job at a time: with the profile's `resources: gpu=1`, CUDA trials run one by one.
    GPUS_PER_TRIAL = gpu_slots_per_trial(DEVICE)
except (ConfigError, ValueError) as error:
    stop(error)

# figure name -> experiment that declares it (names are unique across the set: the loader checks)
FIGURE_EXPERIMENT = {figure: name for name, cfg in EXPERIMENTS.items() for figure in cfg["figures"]}
# With trial_jobs=experiment, an experiment whose networks stack trains all its seeds in one job;
# the others keep one job per seed, so their seeds still run in parallel.
TOGETHER = [name for name, cfg in EXPERIMENTS.items()
            if TRIAL_JOBS == "experiment" and cfg["model"]["name"] in STACKED_MODELS]
APART = [name for name in EXPERIMENTS if name not in TOGETHER]
# Experiments that prune channels also time inference of their dense, narrow and masked nets.
TIMED = [name for name, cfg in EXPERIMENTS.items() if "channel_ratios" in cfg["pruning"]]


def one_of(names):
    """A wildcard pattern matching exactly these names (and nothing when there are none)."""
    return "|".join(re.escape(name) for name in sorted(names)) or "(?!)"


def seed_rounds(wildcards):
    """The per-seed rounds.csv of every seed the experiment declares."""
    seeds = EXPERIMENTS[wildcards.experiment]["seeds"]
    return [f"results/{wildcards.experiment}/seeds/{seed}/rounds.csv" for seed in seeds]


def trial_hash(wildcards):
    return config_hash(trial_settings(EXPERIMENTS[wildcards.experiment]))


def summary_hash(wildcards):
    return config_hash(summary_settings(EXPERIMENTS[wildcards.experiment]))


rule all_experiments:
    input:
        expand("results/{experiment}/summary.json", experiment=sorted(EXPERIMENTS)),
        expand("results/{experiment}/inference.csv", experiment=sorted(TIMED)),


TRIAL_COMMAND = (
    "{PYTHON} -m experiments.trial --experiments-file {params.experiments_file:q}"
    " --experiment {params.experiment} {params.seeds} --out {params.out:q}"
    " --device {params.device} --data-root {params.data_root:q} --threads {threads}"
    " > {log:q} 2>&1"
)

rule trial:
    output:
        rounds="results/{experiment}/seeds/{seed}/rounds.csv",
        provenance="results/{experiment}/seeds/{seed}/provenance.json",
    log:
        "logs/trial/{experiment}/{seed}.log",
    params:
        experiments_file=EXPERIMENTS_FILE,
        settings_hash=trial_hash,
        experiment="{experiment}",
        seeds="--seed {seed}",
        out="results/{experiment}/seeds/{seed}",
        device=DEVICE,
        data_root=DATA_ROOT,
    wildcard_constraints:
        experiment=one_of(APART),
        seed=r"\d+",
    threads: 1
    resources:
        gpu=GPUS_PER_TRIAL,
    shell:
        TRIAL_COMMAND


# One rule per experiment trained together: a job's outputs are every seed's files, a list no
# wildcard spans.
for _experiment in TOGETHER:
    _cfg = EXPERIMENTS[_experiment]

    rule:
        name:
            f"trials_{_experiment}"
        output:
            rounds=expand("results/{e}/seeds/{seed}/rounds.csv", e=_experiment,
                          seed=_cfg["seeds"]),
            provenance=expand("results/{e}/seeds/{seed}/provenance.json", e=_experiment,
                              seed=_cfg["seeds"]),
        log:
            f"logs/trial/{_experiment}.log",
        params:
            experiments_file=EXPERIMENTS_FILE,
            settings_hash=config_hash(trial_settings(_cfg)),
            experiment=_experiment,
            seeds=" ".join(f"--seed {seed}" for seed in _cfg["seeds"]),
            # A function, so Snakemake leaves the {seed} pattern for the trial to fill.
            out=lambda wildcards, e=_experiment: f"results/{e}/seeds/{{seed}}",
            device=DEVICE,
            data_root=DATA_ROOT,
        threads: 1
        resources:
            gpu=GPUS_PER_TRIAL,
        shell:
            TRIAL_COMMAND


rule aggregate:
    input:
        seed_rounds,
    output:
        rounds=staged("results/{experiment}/rounds.csv"),
        summary=staged("results/{experiment}/summary.json"),
    log:
        "logs/aggregate/{experiment}.log",
    params:
        experiments_file=EXPERIMENTS_FILE,
        settings_hash=summary_hash,
        out=staged("results/{experiment}"),
    wildcard_constraints:
        experiment=one_of(EXPERIMENTS),
    shell:
        "{PYTHON} -m experiments.aggregate --experiments-file {params.experiments_file:q}"
        " --experiment {wildcards.experiment} --out {params.out:q} {input:q} > {log:q} 2>&1"


rule inference:
    output:
        staged("results/{experiment}/inference.csv"),
    log:
        "logs/inference/{experiment}.log",
    params:
        experiments_file=EXPERIMENTS_FILE,
        settings_hash=trial_hash,
        device=DEVICE,
    wildcard_constraints:
        experiment=one_of(TIMED),
    # A timing must not share the processor with other jobs: the profile gives this rule more
    # threads than any machine has, and Snakemake lowers that to --cores.
    threads: 1
    resources:
        gpu=GPUS_PER_TRIAL,
    shell:
        "{PYTHON} -m experiments.inference --experiments-file {params.experiments_file:q}"
        " --experiment {wildcards.experiment} --out {output:q} --device {params.device}"
        " --threads {threads} > {log:q} 2>&1"
