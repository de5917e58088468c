import pytest

from manuscript.errors import SourceError
from manuscript.filters import crossref
from tests.manuscript.docs import parse, to_typst

DOC = """\
# Methods {#sec:methods}

![A plot](plot.pdf){#fig:plot}

: Numbers {#tbl:numbers}

| a | b |
|---|---|
| 1 | 2 |

$$ d = \\frac{k}{n} $$ {#eq:density}

See @fig:plot, @tbl:numbers, @sec:methods and @eq:density; bare -@fig:plot.
"""


def test_references_become_typst_refs_and_labels_exist(project):
    typst = to_typst(crossref.main(parse(DOC)))
    for label in ("fig:plot", "tbl:numbers", "sec:methods", "eq:density"):
        assert f"#ref(<{label}>" in typst and f"<{label}>" in typst.replace(f"#ref(<{label}>", "")
    assert "#ref(<fig:plot>, supplement: none)" in typst
    assert "{\\#eq:density}" not in typst  # the equation label became a Typst label


def test_unknown_label_names_chapter_and_line(project):
    with pytest.raises(SourceError) as caught:
        crossref.main(parse("# A {#sec:a}\n\nText.\n\nSee @fig:missing here.\n", chapter="c.md"))
    assert (caught.value.file, caught.value.line) == ("c.md", 5)
    assert "unknown cross-reference label 'fig:missing'" in caught.value.message


def test_duplicate_label_is_an_error(project):
    with pytest.raises(SourceError, match="defined twice"):
        crossref.main(parse("# A {#sec:a}\n\n# B {#sec:a}\n"))


def test_citation_mixed_into_crossref_is_an_error(project):
    with pytest.raises(SourceError, match="mixes a citation"):
        crossref.main(parse("# A {#sec:a}\n\n[@sec:a; @frankle2019lottery]\n"))


def test_ordinary_citations_are_left_alone(project):
    typst = to_typst(crossref.main(parse("Cite [@frankle2019lottery].\n")))
    assert "#ref(" not in typst and "frankle2019lottery" in typst
