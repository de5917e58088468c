# Figures drawn from experiment results. Only figure names declared in the experiment set match,
# so hand-made diagrams under figures/ are left alone.
#   snakemake --cores 1 figures/lth_accuracy.pdf
import json


def figure_results(wildcards):
    """The results folder of the experiment that declares the figure."""
    return f"results/{FIGURE_EXPERIMENT[wildcards.name]}"


def figure_rounds(wildcards):
    """The combined rounds.csv of every experiment the figure draws (its panels, or its own)."""
    experiment = FIGURE_EXPERIMENT[wildcards.name]
    panels = EXPERIMENTS[experiment]["figures"][wildcards.name].get("panels") or [experiment]
    return [f"results/{panel}/rounds.csv" for panel in panels]


def figure_spec(wildcards):
    """The figure's spec as canonical text: editing it (and only it) redraws the figure."""
    experiment = EXPERIMENTS[FIGURE_EXPERIMENT[wildcards.name]]
    return json.dumps(experiment["figures"][wildcards.name], sort_keys=True)


rule figure:
    input:
        rounds=figure_rounds,
        summary=lambda wildcards: figure_results(wildcards) + "/summary.json",
    output:
        pdf=staged("figures/{name}.pdf"),
        provenance=staged("figures/{name}.provenance.json"),
    log:
        "logs/figure/{name}.log",
    params:
        experiments_file=EXPERIMENTS_FILE,
        results=figure_results,
        spec=figure_spec,
    wildcard_constraints:
        name=one_of(FIGURE_EXPERIMENT),
    shell:
        "{PYTHON} -m experiments.figures --experiments-file {params.experiments_file:q}"
        " --figure {wildcards.name} --results {params.results:q} --out {output.pdf:q}"
        " > {log:q} 2>&1"
