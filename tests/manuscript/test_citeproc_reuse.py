"""Reusing citeproc's renderings: only where citeproc would do nothing but fill the Cites."""
import pytest

from manuscript.citeproc_reuse import citation_sequence, rendered, reuse
from manuscript.pandoc import read_json
from tests.manuscript.docs import parse

TEXT = "Tickets [@frankle2019lottery] and @doi2020only, with [-@url2021only].\n"


def _cited(project, text=TEXT, style="csl/numeric.csl"):
    """(blocks before citeproc, blocks after) for `text`, as pandoc sees them."""
    before = parse(text).to_json()
    after = read_json(["chapter.md", "-t", "json", "--citeproc", "-M", "bibliography=references.bib",
                       "-M", f"csl={style}", "-M", "link-citations=true"])
    return before["blocks"], after["blocks"]


@pytest.mark.parametrize("style", ["csl/numeric.csl", "csl/author-date.csl"])
def test_filled_renderings_are_what_citeproc_makes(project, style):
    blocks, cited = _cited(project, style=style)
    assert [block["t"] for block in cited[len(blocks):]] == ["Div"]  # the bibliography, appended
    assert reuse(blocks, rendered(cited), style, ends_document=False) == cited[:len(blocks)]


def test_citations_are_known_before_rendering(project):
    blocks, cited = _cited(project)
    assert citation_sequence(blocks) == citation_sequence(cited)


@pytest.mark.parametrize("rendering", [
    [{"t": "Str", "c": "Frankle"}, {"t": "Space"}, {"t": "Str", "c": "et"}, {"t": "Space"},
     {"t": "Link", "c": [["", [], []], [{"t": "Str", "c": "al."}], ["#ref-x", ""]]}],
    [{"t": "Superscript", "c": [{"t": "Str", "c": "1"}]}],
    [{"t": "Note", "c": [{"t": "Para", "c": [{"t": "Str", "c": "Frankle"}]}]}],
])
def test_a_rendering_mvpunct_could_move_punctuation_around_is_not_reused(project, rendering):
    blocks, cited = _cited(project)
    renderings = rendered(cited)
    renderings[1] = rendering
    assert reuse(blocks, renderings, "csl/numeric.csl", ends_document=False) is None


def test_nothing_is_reused_where_citeproc_does_more(project, tmp_path):
    blocks, cited = _cited(project)
    assert reuse(blocks, rendered(cited), "csl/numeric.csl", ends_document=True) is None
    note_style = tmp_path / "note.csl"
    note_style.write_text('<?xml version="1.0"?>\n<style xmlns="http://purl.org/net/xbiblio/csl" class="note">')
    assert reuse(blocks, rendered(cited), str(note_style), ends_document=False) is None
    assert reuse(blocks, rendered(cited), "no/such/style.csl", ends_document=False) is None
    quoted, cited = _cited(project, TEXT + "\n[quoted]{.csl-quoted}\n")
    assert reuse(quoted, rendered(cited), "csl/numeric.csl", ends_document=False) is None
    assert reuse(blocks, rendered(cited)[:-1], "csl/numeric.csl", ends_document=False) is None
