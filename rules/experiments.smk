# The science: the trials of each experiment (one job for all its seeds, rule trials_EXPERIMENT,
# or with trial_jobs=seed one job per seed, rule trial), then one aggregate job per experiment.
#   snakemake --cores 4 results/lth_mnist1d/summary.json   one experiment (its trials if needed)
#   snakemake --cores 4 all_experiments                    every experiment of the set
# Trials resume from results/E/seeds/S/state/; to recompute an experiment from scratch delete
# results/E first. Editing an experiment reruns only what the edit affects: the hash of the
# settings a job depends on is one of its params, and Snakemake reruns jobs whose params changed
# (training, pruning, ... -> trials; report_densities -> aggregate; a figure spec -> that figure).


rule all_experiments:
    input:
        expand("results/{experiment}/summary.json", experiment=sorted(EXPERIMENTS)),
        expand("results/{experiment}/inference.csv", experiment=sorted(TIMED)),


rule trial:
    output:
        rounds="results/{experiment}/seeds/{seed}/rounds.csv",
        provenance="results/{experiment}/seeds/{seed}/provenance.json",
    log:
        "logs/trial/{experiment}/{seed}.log",
    wildcard_constraints:
        experiment=one_of(APART),
        seed=r"\d+",
    # One job per seed are the experiments whose networks cannot stack here (conv nets on a CPU):
    # together the longest work of a fresh build. Started first, they leave the short stacked
    # jobs to fill the cores at the end, instead of one of them running alone while cores wait.
    priority: 1
    threads: 1
    resources:
        gpu=GPUS_PER_TRIAL,
        runtime=trial_runtime,
        mem_mb=trial_memory,
    params:
        experiments_file=config["experiments_file"],
        settings_hash=trial_hash,
        seeds="--seed {seed}",
        out="results/{experiment}/seeds/{seed}",
        device=config["device"],
        data_root=config["data_root"],
    shell:
        "python -m experiments.trial --experiments-file {params.experiments_file:q}"
        " --experiment {wildcards.experiment} {params.seeds} --out {params.out:q}"
        " --device {params.device} --data-root {params.data_root:q} --threads {threads}"
        " --log {log:q}"


# One rule per experiment trained together: a job's outputs are every seed's files, a list no
# wildcard spans.
for experiment in TOGETHER:

    rule:
        name:
            f"trials_{experiment}"
        output:
            rounds=expand(
                "results/{e}/seeds/{seed}/rounds.csv",
                e=experiment,
                seed=EXPERIMENTS[experiment]["seeds"],
            ),
            provenance=expand(
                "results/{e}/seeds/{seed}/provenance.json",
                e=experiment,
                seed=EXPERIMENTS[experiment]["seeds"],
            ),
        log:
            f"logs/trial/{experiment}.log",
        threads: 1
        resources:
            gpu=GPUS_PER_TRIAL,
            runtime=trial_minutes(
                EXPERIMENTS[experiment],
                len(EXPERIMENTS[experiment]["seeds"]),
                GPUS_PER_TRIAL,
            ),
            mem_mb=trial_mem_mb(EXPERIMENTS[experiment]),
        params:
            experiments_file=config["experiments_file"],
            settings_hash=config_hash(trial_settings(EXPERIMENTS[experiment])),
            experiment=experiment,
            seeds=" ".join(
                f"--seed {seed}" for seed in EXPERIMENTS[experiment]["seeds"]
            ),
            # A function, so Snakemake leaves the {seed} pattern for the trial to fill.
            out=lambda wildcards, e=experiment: f"results/{e}/seeds/{{seed}}",
            device=config["device"],
            data_root=config["data_root"],
        shell:
            "python -m experiments.trial --experiments-file {params.experiments_file:q}"
            " --experiment {params.experiment} {params.seeds} --out {params.out:q}"
            " --device {params.device} --data-root {params.data_root:q} --threads {threads}"
            " --log {log:q}"


rule aggregate:
    input:
        rounds=seed_rounds,
        code=AGGREGATE_CODE,
    output:
        rounds=staged("results/{experiment}/rounds.csv"),
        summary=staged("results/{experiment}/summary.json"),
    log:
        "logs/aggregate/{experiment}.log",
    wildcard_constraints:
        experiment=one_of(EXPERIMENTS),
    params:
        experiments_file=config["experiments_file"],
        settings_hash=summary_hash,
        out=staged_folder("results/{experiment}"),
    shell:
        "python -m experiments.aggregate --experiments-file {params.experiments_file:q}"
        " --experiment {wildcards.experiment} --out {params.out:q} {input.rounds:q} --log {log:q}"


rule inference:
    output:
        staged("results/{experiment}/inference.csv"),
    log:
        "logs/inference/{experiment}.log",
    wildcard_constraints:
        experiment=one_of(TIMED),
    # A timing must not share the processor with other jobs: the profile gives this rule more
    # threads than any machine has, and Snakemake lowers that to --cores.
    threads: 1
    resources:
        gpu=GPUS_PER_TRIAL,
    params:
        experiments_file=config["experiments_file"],
        settings_hash=trial_hash,
        device=config["device"],
    shell:
        "python -m experiments.inference --experiments-file {params.experiments_file:q}"
        " --experiment {wildcards.experiment} --out {output:q} --device {params.device}"
        " --threads {threads} --log {log:q}"
