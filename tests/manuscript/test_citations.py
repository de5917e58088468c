import pytest

from manuscript.errors import SourceError
from manuscript.filters import citations
from tests.manuscript.docs import parse


def test_known_keys_pass(project):
    citations.main(parse("See [@frankle2019lottery; @doi2020only] and @url2021only.\n"))


def test_unknown_key_names_chapter_and_line(project):
    with pytest.raises(SourceError) as caught:
        citations.main(parse("One.\n\nTwo cites [@frankle2019lottery; @nobody2020].\n", chapter="x.md"))
    assert (caught.value.file, caught.value.line) == ("x.md", 3)
    assert "unknown citation key 'nobody2020'" in caught.value.message


def test_key_prefix_of_another_key_is_located_exactly(project):
    text = "First @frankle2019lottery.\n\nThen @frankle2019.\n"
    with pytest.raises(SourceError) as caught:
        citations.main(parse(text, chapter="y.md"))
    assert caught.value.line == 3


def test_broken_bibliography_names_bib_line(project):
    (project / "references.bib").write_text(
        "@misc{good, title={A}, year={2020}, url={https://a.org}}\n\n@misc{bad,\n  title = {Unclosed,\n  year = {2020}\n",
        encoding="utf-8")
    with pytest.raises(SourceError) as caught:
        citations.main(parse("[@good]\n"))
    assert (caught.value.file, caught.value.line) == ("references.bib", 3)


def test_duplicate_bibliography_key(project):
    bib = project / "references.bib"
    bib.write_text(bib.read_text() + "\n@misc{doi2020only, title={Again}, year={2020}, url={https://b.org}}\n")
    with pytest.raises(SourceError, match="duplicate key 'doi2020only'"):
        citations.main(parse("[@doi2020only]\n"))


def test_uncited_entry_is_an_error_at_its_bib_line_when_asked(project):
    with pytest.raises(SourceError) as caught:
        citations.main(parse("Only [@frankle2019lottery].\n", **{"uncited-entries": "error"}))
    assert caught.value.file == "references.bib" and caught.value.line > 1
    assert "cited nowhere" in caught.value.message


def test_uncited_entry_is_a_warning_by_default(project, capsys):
    citations.main(parse("Only [@frankle2019lottery].\n"))
    assert "references.bib:" in capsys.readouterr().err
