"""Library links from the forms real .bib files hold (tests/manuscript/data/messy.bib), the
thesis's own references.bib (77 real entries), every unlinkable entry named in one build, and the
metadata switches `unlinkable-entries: warn` and `library-links: false`."""
from __future__ import annotations

import shutil
from pathlib import Path

import panflute as pf
import pytest

from manuscript.bibliography import LinkPatterns, library_link, read_entries
from manuscript.errors import SourceErrors
from manuscript.filters import bibliography_links
from manuscript.pandoc import dump_doc, load_doc
from manuscript.build import main as build
from tests.manuscript.docs import parse, to_typst
from tests.manuscript.test_build import write_fixture

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parents[2]
PATTERNS = LinkPatterns(arxiv="A:{arxiv}", doi="P?url=https://doi.org/{doi}", url="P?url={url}")

EXPECTED = {
    "eprint_bare": "A:1905.01067",
    "eprint_prefixed_arxiv": "A:1903.01611",
    "eprint_old_style": "A:hep-th/9802150",
    "eprint_old_style_subject": "A:math.DG/0303109",
    "journal_arxiv": "A:1810.05270",
    "doi_as_url": "P?url=https://doi.org/10.5555/2969239.2969366",
    "doi_as_dx_url": "P?url=https://doi.org/10.1000/OBD.1990",
    "doi_prefixed": "P?url=https://doi.org/10.1109/ICNN.1993.298572",
    "doi_sici": "P?url=https://doi.org/10.1002/(SICI)1097-4636(199603)31:3%3C289::AID-JBM1%3E3.0.CO;2-M",
    "doi_arxiv": "A:2003.03033",
    "url_spaces": "P?url=http://example.org/papers/a%20paper.pdf",
    "url_unicode": "P?url=https://example.org/%D7%A9%D7%9C%D7%95%D7%9D?q=a%20b&x=1",
    "url_escaped": "P?url=https://example.org/a%20b?q=%C3%A9",
    "url_arxiv_pdf": "A:2002.07376",
    "eprint_pubmed": "P?url=https://pubmed.example/31234567",
    "nolink_book": None,
    "nolink_second": None,
}


def test_every_form_gets_its_link(tmp_path):
    entries = read_entries(DATA / "messy.bib")
    assert {key: library_link(entries[key], PATTERNS) for key in EXPECTED} == EXPECTED


def test_the_thesis_bibliography_links_every_entry_cleanly():
    entries = read_entries(ROOT / "references.bib")
    assert len(entries) >= 70
    for key, entry in entries.items():
        link = library_link(entry, PATTERNS)
        assert link is not None, key
        assert link.isascii() and " " not in link and "doi.org/http" not in link and "doi.org/doi" not in link.lower(), link


@pytest.fixture
def messy(project):
    shutil.copy(DATA / "messy.bib", project / "references.bib")
    return project


def linked(text: str, **metadata):
    doc = load_doc(["-f", "json", "--citeproc", "-M", "csl=csl/numeric.csl"],
                   stdin=dump_doc(parse(text, **{"link-citations": "true"})))
    meta = load_doc(["-f", "markdown", "--metadata-file", "metadata.yaml"], stdin="").metadata
    doc.metadata["library-links"] = meta["library-links"]
    for key, value in metadata.items():
        doc.metadata[key] = value
    return bibliography_links.main(doc)


ALL = "[" + "; ".join(f"@{key}" for key in EXPECTED) + "]\n"


def test_every_unlinkable_entry_is_named_in_one_run(messy):
    with pytest.raises(SourceErrors) as caught:
        linked(ALL)
    lines = caught.value.oneline().splitlines()
    bib = (messy / "references.bib").read_text().splitlines()
    assert lines == [f"references.bib:{bib.index(f'@book{{{key},') + 1}: entry '{key}' has no arXiv "
                     "eprint, doi or url to link to the library" for key in ("nolink_book", "nolink_second")]


def test_warn_only_links_the_rest(messy):
    doc = linked(ALL, **{"unlinkable-entries": "warn"})
    typst = to_typst(doc)
    assert "edsarx.1905.01067" in typst and "https://doi.org/10.1109/ICNN.1993.298572" in typst
    assert "#numbered-entry(digits: 2)[\\[16\\]" in typst  # an unlinked entry lines up too
    assert len(doc.warnings) == 2 and all(w.startswith("warning: references.bib:") for w in doc.warnings)


def test_a_build_from_the_cache_still_warns(messy, capsys):
    chapters = write_fixture(messy)
    shutil.copy(DATA / "messy.bib", messy / "references.bib")
    (messy / "chapters" / "01-intro.md").write_text(f"# Introduction {{#sec:intro}}\n\n{ALL}")
    metadata = messy / "metadata.yaml"
    metadata.write_text(metadata.read_text().replace("uncited-entries: error", "uncited-entries: warn")
                        + "unlinkable-entries: warn\n")
    for _ in range(2):  # the second build takes the references from the cache
        assert build(["--metadata", "metadata.yaml", "--output", "thesis.pdf", *chapters]) == 0
        err = capsys.readouterr().err
        assert err.count("warning: references.bib:") == 2, err


def test_links_can_be_switched_off(messy):
    typst = to_typst(linked(ALL, **{"library-links": pf.MetaBool(False)}))
    assert "elib.openu.ac.il" not in typst and "<ref-nolink_book>" in typst
    assert "#numbered-entry(digits: 2)[\\[17\\]" in typst  # still laid out as a numbered entry
