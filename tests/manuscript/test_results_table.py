import pytest

from manuscript.errors import SourceError
from manuscript.filters import crossref, results_table
from tests.manuscript.docs import parse, to_typst

TABLE = """\
Intro.

::: {#tbl:toy .results-table data=results/toy/rounds.csv template=toy_rounds.md.j2}
Accuracy by round, mean over seeds.
:::

See @tbl:toy.
"""


def test_csv_rendered_through_template_with_caption_and_label(project):
    typst = to_typst(crossref.main(results_table.main(parse(TABLE))))
    assert "kind: table" in typst and "<tbl:toy>" in typst
    assert "Accuracy by round, mean over seeds." in typst
    # mean of 0.70 and 0.72 is 71.0%, of 0.71 and 0.75 is 73.0%
    assert "[71.0%]" in typst and "[73.0%]" in typst and "[80.0%]" in typst
    assert "#ref(<tbl:toy>)" in typst


@pytest.mark.parametrize("attrs, message", [
    ("data=results/toy/none.csv template=toy_rounds.md.j2", "results/toy/none.csv does not exist"),
    ("data=results/toy/rounds.csv template=nope.md.j2", "table template nope.md.j2 not found"),
    ("data=results/toy/rounds.csv", "needs both"),
])
def test_bad_table_names_chapter_and_line(project, attrs, message):
    doc = parse(f"Text.\n\n::: {{#tbl:x .results-table {attrs}}}\nCaption.\n:::\n", chapter="ch.md")
    with pytest.raises(SourceError) as caught:
        results_table.main(doc)
    assert (caught.value.file, caught.value.line) == ("ch.md", 3)
    assert message in caught.value.message


def test_template_that_renders_no_table_is_an_error(project):
    (project / "templates" / "prose.md.j2").write_text("Just words about {{ rows | length }} rows.\n")
    doc = parse("::: {#tbl:x .results-table data=results/toy/rounds.csv template=prose.md.j2}\nC.\n:::\n")
    with pytest.raises(SourceError, match="rendered 0 tables"):
        results_table.main(doc)


def test_template_error_is_reported(project):
    (project / "templates" / "bad.md.j2").write_text("| a |\n|---|\n| {{ rows[0].no_such_column }} |\n")
    doc = parse("::: {#tbl:x .results-table data=results/toy/rounds.csv template=bad.md.j2}\nC.\n:::\n")
    with pytest.raises(SourceError, match="bad.md.j2 failed"):
        results_table.main(doc)
