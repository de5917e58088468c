import pytest

from manuscript.bibliography import LinkPatterns, library_link, read_entries
from manuscript.errors import SourceError
from manuscript.filters import bibliography_links
from manuscript.pandoc import dump_doc, load_doc
from tests.manuscript.docs import parse, to_typst

PROXY = "http://elib.openu.ac.il/login?url="
ARXIV = (PROXY + "https://search.ebscohost.com/login.aspx?direct=true&db=edsarx"
         "&AN=edsarx.1803.03635&site=eds-live&scope=site")


def citeproc(doc):
    return load_doc(["-f", "json", "--citeproc", "-M", "csl=csl/numeric.csl"], stdin=dump_doc(doc))


def linked(project, text: str):
    doc = citeproc(parse(text, **{"link-citations": "true"}))
    doc.metadata["library-links"] = load_doc(["-f", "markdown", "--metadata-file", "metadata.yaml"],
                                             stdin="").metadata["library-links"]
    return bibliography_links.main(doc)


def test_arxiv_doi_and_url_entries_link_to_the_library(project):
    typst = to_typst(linked(project, "[@frankle2019lottery; @doi2020only; @url2021only]\n"))
    assert f'#link("{ARXIV}")' in typst
    assert f'#link("{PROXY}https://doi.org/10.1000/xyz-123")' in typst
    assert f'#link("{PROXY}https://example.org/page")' in typst


def test_in_text_citation_links_to_its_entry(project):
    typst = to_typst(linked(project, "[@doi2020only]\n"))
    assert "#link(<ref-doi2020only>)" in typst and "<ref-doi2020only>" in typst


def test_entry_without_any_link_names_bib_line(project):
    bib = project / "references.bib"
    bib.write_text(bib.read_text() + "\n@book{nolink2000,\n  title = {Offline},\n  author = {Poe, Ann},\n  year = {2000}\n}\n")
    with pytest.raises(SourceError) as caught:
        linked(project, "[@nolink2000]\n")
    assert caught.value.file == "references.bib"
    assert caught.value.line == bib.read_text().splitlines().index("@book{nolink2000,") + 1


def test_arxiv_doi_counts_as_arxiv(project):
    patterns = LinkPatterns(arxiv="A:{arxiv}", doi="D:{doi}", url="U:{url}")
    assert library_link({"DOI": "10.48550/arXiv.2003.03033"}, patterns) == "A:2003.03033"
    assert library_link({"URL": "https://arxiv.org/abs/1803.03635v3"}, patterns) == "A:1803.03635"
    assert library_link({"DOI": "10.1000/x"}, patterns) == "D:10.1000/x"
    assert library_link({}, patterns) is None


def test_read_entries_keys(project):
    assert set(read_entries("references.bib")) == {"frankle2019lottery", "doi2020only", "url2021only"}
