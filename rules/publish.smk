# The last good outputs survive a failure. Snakemake deletes a job's outputs before it runs the
# job, so the jobs an edit can make fail (aggregate, figure, diagram, inference, thesis) write
# into a .staged/ folder beside their place (`staged()` in rules/common.smk), and rule publish
# copies each finished file into place. A failed or killed job never reaches publish:
# thesis.pdf, figures/ and results/ keep the previous files.
rule publish:
    input:
        lambda wildcards: staged(wildcards.path),
    output:
        "{path}",
    log:
        "logs/publish/{path}.log",
    wildcard_constraints:
        path=published_paths(),
    localrule: True
    shell:
        "cp {input:q} {output:q} 2> >(tee {log:q} >&2)"


# An experiment's rows and summary travel together.
rule publish_experiment:
    input:
        rounds=staged("results/{experiment}/rounds.csv"),
        summary=staged("results/{experiment}/summary.json"),
    output:
        rounds=report(
            "results/{experiment}/rounds.csv",
            caption="../report/rounds.rst",
            category="{experiment}",
            subcategory="Tables",
        ),
        summary=report(
            "results/{experiment}/summary.json",
            caption="../report/summary.rst",
            category="{experiment}",
            subcategory="Provenance",
        ),
    log:
        "logs/publish/results/{experiment}.log",
    wildcard_constraints:
        experiment=one_of(EXPERIMENTS),
    localrule: True
    shell:
        "(cp {input.rounds:q} {output.rounds:q} && cp {input.summary:q} {output.summary:q})"
        " 2> >(tee {log:q} >&2)"


# A figure and its provenance travel together: the thesis's appendix reads the provenance of
# every figure it shows. `snakemake --report report.html` shows the published files marked
# report() here, one category per experiment, with the captions of report/.
rule publish_figure:
    input:
        pdf=staged("figures/{name}.pdf"),
        provenance=staged("figures/{name}.provenance.json"),
    output:
        pdf=report(
            "figures/{name}.pdf",
            caption="../report/figure.rst",
            category=figure_category,
            subcategory="Figures",
            labels=figure_labels,
        ),
        provenance=report(
            "figures/{name}.provenance.json",
            caption="../report/figure_provenance.rst",
            category=figure_category,
            subcategory="Provenance",
        ),
    log:
        "logs/publish/figures/{name}.log",
    wildcard_constraints:
        name=one_of(FIGURE_EXPERIMENT),
    localrule: True
    shell:
        "(cp {input.pdf:q} {output.pdf:q} && cp {input.provenance:q} {output.provenance:q})"
        " 2> >(tee {log:q} >&2)"
