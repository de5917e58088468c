# The document: typeset the chapters once everything they reference exists.
# The chapters are scanned when the thesis is part of the plan (the input function below), so
# the thesis depends on exactly the figures, tables and numbers it shows, while a target under
# results/ or figures/ never depends on the prose. Editing prose reruns this rule and nothing
# else. The scan is cached per chapter in build/cache (shared with the build), so a start
# re-reads only what was edited.
from glob import glob

from manuscript.cache import Cache
from manuscript.errors import SourceError
from manuscript.scan import check_producible, scan

CHAPTERS = sorted(glob("chapters/*.md"))


def _workflow_makes(path):
    """True for files that exist or that a rule of this workflow produces."""
    parts = path.split("/")
    if os.path.exists(path):
        return True
    if len(parts) == 2 and parts[0] == "figures" and path.endswith(".pdf"):
        name = parts[1][: -len(".pdf")]
        return name in FIGURE_EXPERIMENT or name in DIAGRAMS  # rules figure and diagram
    if len(parts) != 3 or parts[0] != "results":
        return False
    experiment, name = parts[1], parts[2]
    return (experiment in EXPERIMENTS and name in ("rounds.csv", "summary.json")) or (
        experiment in TIMED and name == "inference.csv"
    )


def referenced_by_chapters(wildcards):
    """The files the chapters show; a reference no rule can make stops the plan at its line."""
    try:
        referenced = scan(CHAPTERS, cache=Cache("build/cache"))
        check_producible(referenced, CHAPTERS, _workflow_makes)
    except SourceError as error:
        stop(error.oneline())
    return referenced.files()


rule thesis:
    input:
        chapters=CHAPTERS,
        metadata="metadata.yaml",
        bibliography="references.bib",
        style=glob("templates/*.typ") + glob("csl/*.csl"),
        referenced=referenced_by_chapters,
    output:
        staged("thesis.pdf"),
    log:
        "logs/thesis.log",
    params:
        # Compile on the Typst server the user started, if one answers (manuscript.typst_server);
        # the workflow never starts one.
        typst_server="--typst-server" if config["typst_server"] else "",
    shell:
        "{PYTHON} -m manuscript.build --metadata {input.metadata} --output {output} "
        "{params.typst_server} {input.chapters} 2> >(tee {log} >&2)"
