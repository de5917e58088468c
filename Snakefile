# The thesis workflow. Read it as a table of contents: settings, the rule files, the top target.
#   snakemake --cores 4 thesis.pdf                         the whole thesis
#   snakemake --cores 4 results/lth_mnist1d/summary.json   one experiment
#   snakemake --cores 4 figures/lth_accuracy.pdf           one figure
# Settings: config/config.yaml (checked against config/schema/workflow.schema.json), the
# experiment set it names, and profiles/default for threads and resources.


configfile: "config/config.yaml"


include: "rules/common.smk"  # settings checked, experiment set loaded, shared functions
include: "rules/experiments.smk"  # trials, aggregation, measured inference
include: "rules/figures.smk"  # figures drawn from results
include: "rules/diagrams.smk"  # hand-made Typst diagrams
include: "rules/thesis.smk"  # chapters -> thesis.pdf
include: "rules/publish.smk"  # finished files copied into place


# Quick steps run where Snakemake runs, also under a cluster executor (profiles/slurm): a
# cluster job costs a queue wait and status polls, these take a second. Trials are submitted.
localrules:
    all,
    all_experiments,
    aggregate,
    figure,
    diagram,
    thesis,


rule all:
    input:
        "thesis.pdf",


onsuccess:
    cancel_pending_timers()


onerror:
    cancel_pending_timers()
