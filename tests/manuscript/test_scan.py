import pytest

from manuscript.errors import SourceError
from manuscript.scan import check_producible, scan

CHAPTER = """\
# Results

![A](figures/acc.pdf){#fig:acc}

::: {#tbl:t .results-table data=results/lth/rounds.csv template=rounds.md.j2}
Caption.
:::

Accuracy `lth.dense.test_acc.mean`{.result fmt=".1%"} and `other.x`{.result}; code `plain`.
"""


def test_scan_lists_exactly_what_the_chapters_reference(project):
    (project / "c.md").write_text(CHAPTER)
    refs = scan(["c.md"])
    assert refs.figures == ["figures/acc.pdf"]
    assert refs.tables == ["results/lth/rounds.csv"] and refs.templates == ["templates/rounds.md.j2"]
    assert refs.summaries == ["results/lth/summary.json", "results/other/summary.json"]


def test_unproducible_reference_names_chapter_and_line(project):
    (project / "c.md").write_text(CHAPTER)
    refs = scan(["c.md"])
    with pytest.raises(SourceError) as caught:
        check_producible(refs, ["c.md"], lambda path: "other" not in path)
    assert (caught.value.file, caught.value.line) == ("c.md", 9)
    assert "results/other/summary.json" in caught.value.message
