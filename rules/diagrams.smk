# Hand-made diagrams: each diagrams/NAME.typ (a Typst drawing) becomes figures/NAME.pdf.
# Only the names of the sources present match, so this rule and `figure` (experiment figures)
# never claim the same file (rules/common.smk checks). diagrams/style.typ and diagrams/_*.typ
# are shared by every drawing, are not diagrams themselves, and redraw them all when edited.
#   snakemake --cores 1 figures/imp_loop.pdf


rule diagram:
    input:
        source="diagrams/{name}.typ",
        libraries=DIAGRAM_LIBRARIES,
        code=DIAGRAM_CODE,
    output:
        staged("figures/{name}.pdf"),
    log:
        "logs/diagram/{name}.log",
    wildcard_constraints:
        name=one_of(DIAGRAMS),
    shell:
        "python -m manuscript.diagrams {input.source:q} {output:q} 2> >(tee {log:q} >&2)"
