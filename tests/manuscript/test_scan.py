import pytest

from manuscript.cache import Cache
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


def _entries(folder, kind):
    return sorted(p.name for p in (folder / kind).glob("*.json"))


def test_cached_scan_reads_an_edited_chapter_and_nothing_else(project):
    (project / "a.md").write_text(CHAPTER)
    (project / "b.md").write_text("# B\n\nPlain prose.\n")
    cache = Cache(project / "build" / "cache")
    assert scan(["a.md", "b.md"], cache=cache) == scan(["a.md", "b.md"])
    before = _entries(project / "build" / "cache", "ast")
    (project / "b.md").write_text("# B\n\nPlain prose, edited.\n![C](figures/c.pdf)\n")
    refs = scan(["a.md", "b.md"], cache=Cache(project / "build" / "cache"))
    assert refs.figures == ["figures/acc.pdf", "figures/c.pdf"]
    after = _entries(project / "build" / "cache", "ast")
    assert set(before) < set(after) and len(after) == len(before) + 1


@pytest.mark.parametrize("kind", ["ast", "scan"])
@pytest.mark.parametrize("damage", [b"", b"{not json", b'{"format": 1, "value": {"figures": 3}}'])
def test_a_damaged_cache_entry_is_read_again_from_the_chapter(project, kind, damage):
    """A damaged parse or scan entry is made again from the chapter."""
    (project / "c.md").write_text(CHAPTER)
    folder = project / "build" / "cache"
    expected = scan(["c.md"], cache=Cache(folder))
    for entry in (folder / kind).glob("*.json"):
        entry.write_bytes(damage)
    assert scan(["c.md"], cache=Cache(folder)) == expected


def test_an_unchanged_chapter_is_not_walked_again(project, monkeypatch):
    """Each Snakemake start scans every chapter; only an edited one may cost a walk."""
    import manuscript.scan as scan_module

    (project / "a.md").write_text(CHAPTER)
    (project / "b.md").write_text("# B\n\nPlain prose.\n")
    folder = project / "build" / "cache"
    expected = scan(["a.md", "b.md"], cache=Cache(folder))
    walked = []
    walk = scan_module._walk
    monkeypatch.setattr(scan_module, "_walk", lambda ast: walked.append(ast) or walk(ast))
    assert scan(["a.md", "b.md"], cache=Cache(folder)) == expected and walked == []
    (project / "b.md").write_text("# B\n\nEdited.\n\n![C](figures/c.pdf)\n")
    assert scan(["a.md", "b.md"], cache=Cache(folder)).figures == ["figures/acc.pdf", "figures/c.pdf"]
    assert len(walked) == 1
