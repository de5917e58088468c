from manuscript.filters import abstract
from tests.manuscript.docs import parse


def test_abstracts_move_into_metadata(project):
    doc = abstract.main(parse(
        "# Abstract {.abstract}\n\nWe study tickets.\n\n"
        "# תקציר {.abstract lang=he}\n\nאנו חוקרים כרטיסים.\n\n"
        "# Introduction\n\nBody text.\n", lang="en"))
    assert doc.get_metadata("abstract").strip() == "We study tickets."
    assert doc.get_metadata("abstract-title") == "Abstract"
    (extra,) = doc.get_metadata("extra-abstracts")
    assert extra["lang"] == "he" and extra["dir"] == "rtl" and extra["title"] == "תקציר"
    assert [type(b).__name__ for b in doc.content] == ["Header", "Para"]


def test_document_without_abstract_is_unchanged(project):
    doc = abstract.main(parse("# Introduction\n\nText.\n"))
    assert doc.get_metadata("abstract") is None and len(doc.content) == 2
