# Figures drawn from experiment results. Only figure names declared in the experiment set match,
# so hand-made diagrams under figures/ are left alone.
#   snakemake --cores 1 figures/lth_accuracy.pdf


rule figure:
    input:
        rounds=figure_rounds,
        summary=figure_summary,
        code=FIGURE_CODE,
    output:
        pdf=staged("figures/{name}.pdf"),
        provenance=staged("figures/{name}.provenance.json"),
    log:
        "logs/figure/{name}.log",
    wildcard_constraints:
        name=one_of(FIGURE_EXPERIMENT),
    params:
        experiments_file=config["experiments_file"],
        results=figure_results,
        spec=figure_spec,
    shell:
        "python -m experiments.figures --experiments-file {params.experiments_file:q}"
        " --figure {wildcards.name} --results {params.results:q} --out {output.pdf:q}"
        " --log {log:q}"
