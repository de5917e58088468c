"""The cached build: after an edit it writes exactly the Typst a build from scratch writes."""
import json
import shutil

import pytest

from manuscript.build import main
from manuscript.pandoc import run_pandoc
from manuscript.cache import Cache
from manuscript import typeset
from manuscript.typeset import TEMPLATE, cite, frame
from manuscript.writer import Typeset, join, typeset_blocks, write
from tests.manuscript.test_build import write_fixture

ARGS = ["--metadata", "metadata.yaml", "--output", "thesis.pdf"]


def _build(chapters) -> str:
    assert main([*ARGS, *chapters]) == 0
    return open("build/thesis.typ", encoding="utf-8").read()


def _from_scratch(project, chapters) -> str:
    shutil.rmtree(project / "build")
    return _build(chapters)


def _entries(project, kind):
    return {p.name for p in (project / "build" / "cache" / kind).glob("*.json")}


def _edit(project, name, old, new):
    path = project / "chapters" / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_after_a_prose_edit_only_that_chapter_is_filtered_and_the_typst_is_a_clean_builds(project):
    chapters = write_fixture(project)
    _build(chapters)
    filtered_before = _entries(project, "chapter-facts")
    title_before = _entries(project, "title")
    _edit(project, "01-intro.md", "Tickets were proposed", "Winning tickets were first proposed")
    warm = _build(chapters)
    assert "Winning tickets were first proposed" in warm
    assert len(_entries(project, "chapter-facts") - filtered_before) == 1
    assert _entries(project, "title") == title_before and title_before  # no citeproc of it again
    assert warm == _from_scratch(project, chapters)


def test_an_edit_to_a_chapters_own_metadata_reaches_the_title_page(project):
    """A chapter's YAML block is read from its scan record, not its tree: kept with each version."""
    chapters = write_fixture(project)
    intro = project / "chapters" / "01-intro.md"
    intro.write_text("---\nsubtitle: First subtitle\n---\n\n" + intro.read_text(encoding="utf-8"),
                     encoding="utf-8")
    assert "First subtitle" in _build(chapters)
    _edit(project, "01-intro.md", "First subtitle", "Second subtitle")
    warm = _build(chapters)
    assert "Second subtitle" in warm and "First subtitle" not in warm
    assert warm == _from_scratch(project, chapters)


def test_a_new_first_citation_renumbers_the_later_chapters_as_a_clean_build_does(project):
    chapters = write_fixture(project)
    _build(chapters)
    _edit(project, "00-abstract.md", "about tickets.", "about tickets [@url2021only].")
    warm = _build(chapters)
    assert "#link(<ref-url2021only>)[1]" in warm and "#link(<ref-frankle2019lottery>)[2]" in warm
    assert warm == _from_scratch(project, chapters)


def test_removing_a_label_stops_the_build_at_the_unchanged_chapter_that_refers_to_it(project, capsys):
    chapters = write_fixture(project)
    _build(chapters)
    _edit(project, "02-results.md", "# Results {#sec:results}", "# Results")
    assert main([*ARGS, *chapters]) == 1
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "error: chapters/01-intro.md:3: unknown cross-reference label 'sec:results'")


def test_a_damaged_cache_gives_the_same_typst(project):
    chapters = write_fixture(project)
    clean = _build(chapters)
    for number, entry in enumerate(sorted((project / "build" / "cache").glob("*/*.json"))):
        data = entry.read_bytes()
        entry.write_bytes(data[:len(data) // 2] if number % 2 else data.replace(b'"', b"'", 1))
    assert _build(chapters) == clean


def test_changed_results_reach_a_cached_chapter(project):
    chapters = write_fixture(project)
    assert "73.1%" in _build(chapters)
    summary = project / "results" / "toy" / "summary.json"
    data = json.loads(summary.read_text())
    data["dense"]["test_acc"]["mean"] = 0.5
    summary.write_text(json.dumps(data))
    warm = _build(chapters)
    assert "50.0%" in warm and "73.1%" not in warm


BLOCKS = [
    {"t": "Header", "c": [1, ["sec:a", [], []], [{"t": "Str", "c": "A"}]]},
    {"t": "Para", "c": [{"t": "Str", "c": "Text."}]},
    {"t": "Header", "c": [2, ["sec:b", [], []], [{"t": "Str", "c": "B"}]]},
    {"t": "HorizontalRule"},
    {"t": "BulletList", "c": [[{"t": "Plain", "c": [{"t": "Str", "c": "item"}]}]]},
    {"t": "RawBlock", "c": ["typst", "#pagebreak()"]},
    {"t": "Para", "c": [{"t": "Str", "c": "End."}]},
]


class _Settings:
    api, meta, key = [1, 23, 1, 1], {"title": {"t": "MetaString", "c": "T"}}, ""
    cache = Cache(".")


@pytest.mark.parametrize("blocks", [BLOCKS, BLOCKS[3:]], ids=["heading first", "rule first"])
@pytest.mark.parametrize("cut", range(1, 4))
def test_parts_joined_in_the_template_are_what_the_writer_makes_of_all_blocks(project, blocks, cut):
    whole = run_pandoc(["-f", "json", "-t", "typst", "--template", TEMPLATE], stdin=json.dumps(
        {"pandoc-api-version": _Settings.api, "meta": _Settings.meta, "blocks": blocks}))
    halves = [Typeset(*write(_Settings, part), chars="") for part in (blocks[:cut], blocks[cut:])]
    before, after = frame(_Settings, _Settings.meta, [])
    assert before + join(halves) + after == whole


def test_without_a_refs_div_the_bibliography_ends_the_document_as_citeproc_puts_it(project):
    chapters = write_fixture(project)
    (project / "chapters" / "99-references.md").unlink()
    chapters = chapters[:-1]
    typst = _build(chapters)
    assert typst.rindex("<ref-frankle2019lottery>") > typst.index("Provenance of results")
    assert typst == _from_scratch(project, chapters)


def test_a_new_provenance_record_reaches_the_cached_appendix(project):
    chapters = write_fixture(project)
    assert "no workflow record" in _build(chapters)
    record = {"experiment": "toy", "rule": "figure", "config_hash": "sha256:" + "cd" * 32,
              "seeds": [7], "code_commit": "feedface00", "device": "cpu", "date": "2026-11-21T11:00"}
    (project / "figures" / "toy.provenance.json").write_text(json.dumps(record))
    warm = _build(chapters)
    assert "seeds 7" in warm
    assert warm == _from_scratch(project, chapters)


@pytest.mark.parametrize("style", ["csl/numeric.csl", "csl/author-date.csl"])
def test_a_prose_edit_beside_citations_matches_a_clean_build(project, style):
    metadata = project / "metadata.yaml"
    metadata.write_text(metadata.read_text().replace("csl/numeric.csl", style))
    chapters = write_fixture(project)
    _build(chapters)
    _edit(project, "01-intro.md", "see also", "see also, for instance,")
    warm = _build(chapters)
    assert "for instance" in warm
    assert warm == _from_scratch(project, chapters)


def test_the_bibliography_follows_the_last_part_with_text_when_none_has_a_refs_div(project):
    chapters = write_fixture(project)
    (project / "chapters" / "99-references.md").unlink()
    (project / "chapters" / "00-abstract.md").rename(project / "chapters" / "zz-abstract.md")
    metadata = project / "metadata.yaml"
    metadata.write_text(metadata.read_text().replace("provenance-appendix: true", "provenance-appendix: false"))
    chapters = sorted(str(p.relative_to(project)) for p in (project / "chapters").glob("*.md"))
    typst = _build(chapters)
    assert typst.rindex("<ref-frankle2019lottery>") > typst.index("dense accuracy is")


def test_a_heading_id_repeated_in_another_chapter_is_reported(project, capsys):
    chapters = write_fixture(project)
    for name in ("01-intro.md", "02-results.md"):
        path = project / "chapters" / name
        path.write_text(path.read_text() + "\n## Summary\n\nIn short.\n")
    _build(chapters)
    assert ("warning: chapters/02-results.md: heading id 'summary' is also used in "
            "chapters/01-intro.md") in capsys.readouterr().err


# Every form of citation, in an order other than their first use (numbers come from context).
CITATION_FORMS = ("# Forms\n\n@url2021only found tickets; [-@doi2020only] agrees "
                  "[see @frankle2019lottery, p. 3; @url2021only].^[As in @doi2020only, "
                  "and [@url2021only].] The end [@frankle2019lottery].\n")


@pytest.mark.parametrize("style", ["csl/numeric.csl", "csl/author-date.csl"])
def test_parts_cited_and_written_in_one_run_match_citeproc_then_the_filters(project, style,
                                                                             monkeypatch):
    metadata = project / "metadata.yaml"
    metadata.write_text(metadata.read_text().replace("csl/numeric.csl", style))
    chapters = write_fixture(project)
    (project / "chapters" / "03-forms.md").write_text(CITATION_FORMS, encoding="utf-8")
    chapters = sorted(str(p.relative_to(project)) for p in (project / "chapters").glob("*.md"))
    one_run = _build(chapters)
    assert "found tickets" in " ".join(one_run.split()) and "#footnote" in one_run

    def two_runs(settings, blocks, context):  # every part: citeproc, the filters, the writer
        return typeset_blocks(settings, cite(settings, blocks, context) if blocks else blocks)

    monkeypatch.setattr(typeset, "_typeset", two_runs)
    assert _from_scratch(project, chapters) == one_run
