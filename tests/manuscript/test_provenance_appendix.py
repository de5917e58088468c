import json

from manuscript.filters import crossref, provenance, results_inline, results_table
from tests.manuscript.docs import parse, to_typst

CHAPTER = """\
# Results {#sec:results}

![Accuracy](figures/toy.pdf){#fig:toy}

::: {#tbl:toy .results-table data=results/toy/rounds.csv template=toy_rounds.md.j2}
Rounds.
:::

Dense accuracy is `toy.dense.test_acc.mean`{.result fmt=".1%"}.
"""


def run_filters(doc):
    for module in (provenance, results_inline, results_table, crossref):
        doc = module.main(doc)
    return doc


def test_appendix_lists_each_figure_table_and_number(project):
    (project / "figures").mkdir()
    (project / "figures" / "toy.pdf").write_bytes(b"%PDF-1.4\n")
    record = {"experiment": "toy", "rule": "figure", "config_hash": "sha256:" + "cd" * 32, "seeds": [0, 1],
              "code_commit": "feedface00", "code_dirty": False, "device": "cpu", "date": "2026-11-21T11:00:00+00:00"}
    (project / "figures" / "toy.provenance.json").write_text(json.dumps(record))
    typst = to_typst(run_filters(parse(CHAPTER)))
    appendix = typst[typst.index("#show: appendices"):]
    assert "<sec:provenance>" in appendix
    assert "#ref(<fig:toy>)" in appendix and "rule figure" in appendix and "feedface00" in appendix
    assert "#ref(<tbl:toy>)" in appendix and "rule aggregate" in appendix
    assert "with uncommitted changes" in appendix  # the summary's record is dirty
    assert "toy.dense.test_acc.mean" in appendix and "73.1%" in appendix
    assert "seeds 0, 1" in appendix and "device cpu" in appendix


def test_no_appendix_without_results(project):
    typst = to_typst(run_filters(parse("# Only prose\n\nNothing measured.\n")))
    assert "appendices" not in typst


def test_appendix_can_be_switched_off(project):
    (project / "figures").mkdir()
    (project / "figures" / "toy.pdf").write_bytes(b"%PDF-1.4\n")
    typst = to_typst(run_filters(parse(CHAPTER, **{"provenance-appendix": "false"})))
    assert "appendices" not in typst
