import pytest

from manuscript.errors import SourceError
from manuscript.filters import figures
from tests.manuscript.docs import parse


def test_existing_figure_passes(project):
    (project / "figures").mkdir()
    (project / "figures" / "a.pdf").write_bytes(b"%PDF-1.4\n")
    figures.main(parse("![A](figures/a.pdf){#fig:a}\n"))


@pytest.mark.parametrize("url, message", [("figures/none.pdf", "does not exist"),
                                          ("https://example.org/x.png", "is remote")])
def test_bad_figure_names_chapter_and_line(project, url, message):
    with pytest.raises(SourceError) as caught:
        figures.main(parse(f"Text.\n\n![A]({url}){{#fig:a}}\n", chapter="f.md"))
    assert (caught.value.file, caught.value.line) == ("f.md", 3) and message in caught.value.message
