# Hand-made diagrams: each diagrams/NAME.typ (a Typst drawing) becomes figures/NAME.pdf.
# Only the names of the sources present match, so this rule and `figure` (experiment figures)
# never claim the same file. diagrams/style.typ and diagrams/_*.typ are shared by every
# drawing, are not diagrams themselves, and redraw them all when edited.
#   snakemake --cores 1 figures/imp_loop.pdf
from glob import glob
from pathlib import Path

DIAGRAM_LIBRARIES = sorted(glob("diagrams/style.typ") + glob("diagrams/_*.typ"))
DIAGRAMS = sorted(Path(p).stem for p in glob("diagrams/*.typ") if p not in DIAGRAM_LIBRARIES)

_SHARED_NAMES = sorted(set(DIAGRAMS) & set(FIGURE_EXPERIMENT))
if _SHARED_NAMES:
    stop(f"diagrams/{_SHARED_NAMES[0]}.typ: figures/{_SHARED_NAMES[0]}.pdf is also an "
         "experiment's figure; rename one of them")


rule diagram:
    input:
        source="diagrams/{name}.typ",
        libraries=DIAGRAM_LIBRARIES,
    output:
        staged("figures/{name}.pdf"),
    log:
        "logs/diagram/{name}.log",
    wildcard_constraints:
        name=one_of(DIAGRAMS),
    shell:
        "{PYTHON} -m manuscript.diagrams {input.source:q} {output:q} > {log:q} 2>&1"
