# The document: typeset the chapters once everything they reference exists.
# The chapters are scanned when the thesis is part of the plan (`referenced_by_chapters`), so
# the thesis depends on exactly the figures, tables and numbers it shows, while a target under
# results/ or figures/ never depends on the prose. Editing prose reruns this rule and nothing
# else. The scan is cached per chapter in build/cache (shared with the build), so a start
# re-reads only what was edited.
# While writing, a Typst process the user starts (python -m manuscript.typst_server, in a second
# terminal) lays out only what changed; builds compile on it when it answers, else in their own
# process. The workflow never starts one. --config typst_server=false ignores a running one.


rule thesis:
    input:
        chapters=CHAPTERS,
        metadata="metadata.yaml",
        bibliography="references.bib",
        style=glob("templates/*.typ") + glob("csl/*.csl"),
        fonts=PROJECT_FONTS,
        code=DOCUMENT_CODE,
        referenced=referenced_by_chapters,
    output:
        staged("thesis.pdf"),
    log:
        "logs/thesis.log",
    params:
        typst_server="--typst-server" if config["typst_server"] else "",
    shell:
        "python -m manuscript.build --metadata {input.metadata} --output {output}"
        " {params.typst_server} {input.chapters} 2> >(tee {log} >&2)"
