"""What the chapters reference, so the workflow makes exactly that before typesetting.

Snakemake calls `scan` while it builds the job graph: each figure path, each table's CSV and
template, and the summary.json behind each inline number becomes an input of the thesis target.
Editing prose changes none of these, so no experiment reruns. With a Cache each chapter is parsed
by pandoc once per version of its bytes (manuscript.pandoc.read_markdown; the build reuses the
parse), so a Snakemake start after an edit runs pandoc on the edited chapter only.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from manuscript.ast import attr, document_elements
from manuscript.errors import error_at
from manuscript.pandoc import markdown_key, read_markdown


@dataclass
class References:
    figures: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    templates: list[str] = field(default_factory=list)
    summaries: list[str] = field(default_factory=list)

    def files(self) -> list[str]:
        return sorted(set(self.figures + self.tables + self.templates + self.summaries))

    def extend(self, other: "References") -> None:
        for name, items in asdict(other).items():
            for item in items:
                _add(getattr(self, name), item)


@dataclass
class _Found:
    """What one chapter names, before the folders of metadata are applied, and its own YAML
    metadata (pandoc JSON), which the build's settings read without loading every tree."""
    figures: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    templates: list[str] = field(default_factory=list)
    experiments: list[str] = field(default_factory=list)
    meta: dict = field(default_factory=dict)


def scan(chapters: list[str], templates_dir: str = "templates", results_root: str = "results",
         cache=None) -> References:
    refs = References()
    for chapter in chapters:
        refs.extend(scan_chapter(chapter, templates_dir, results_root, cache))
    return refs


def scan_chapter(chapter: str, templates_dir: str = "templates", results_root: str = "results",
                 cache=None) -> References:
    found = _found_in(chapter, cache)
    return References(
        figures=found.figures, tables=found.tables,
        templates=[f"{templates_dir}/{name}" for name in found.templates],
        summaries=[f"{results_root}/{name}/summary.json" for name in found.experiments])


def chapter_meta(chapter: str, cache=None) -> dict:
    """The chapter's own YAML metadata, as pandoc reads it."""
    return _found_in(chapter, cache).meta


def _found_in(chapter: str, cache) -> _Found:
    """What ``chapter`` names; with a Cache, walked once per version of its bytes (the walk over
    every chapter's tree took about 0.3 s of each Snakemake start and again in the build)."""
    if cache is None:
        return _walk(read_markdown(chapter))
    key = markdown_key(chapter)
    cached = cache.get("scan", key)
    if cached is not None and cache.has("ast", key):  # has(): the build may still need the tree
        return _Found(**cached)
    found = _walk(read_markdown(chapter, cache))
    cache.put("scan", key, asdict(found))
    return found


def _walk(ast: dict) -> _Found:
    found = _Found(meta=ast["meta"])
    for element in document_elements(ast):
        kind = element["t"]
        if kind == "Image" and "://" not in element["c"][2][0]:
            _add(found.figures, element["c"][2][0])
        elif kind == "Div" and "results-table" in attr(element)[1]:
            _add(found.tables, attr(element)[2].get("data", ""))
            _add(found.templates, attr(element)[2].get("template", ""))
        elif kind == "Code" and "result" in attr(element)[1]:
            _add(found.experiments, element["c"][1].strip().split(".")[0])
    return found


def _add(items: list[str], item: str) -> None:
    if item and item not in items:
        items.append(item)


def check_producible(refs: References, chapters: list[str], can_make) -> None:
    """Raise a SourceError at the chapter line of the first file that neither exists nor has a rule."""
    for path, needle in _needles(refs):
        if not can_make(path):
            raise error_at(f"{path} is referenced, but it does not exist and no rule makes it", needle, chapters)


def _needles(refs: References):
    """Each referenced file with the text that points at it in a chapter."""
    yield from ((path, f"({path}") for path in refs.figures)
    yield from ((path, path) for path in refs.tables)
    yield from ((path, path.rsplit("/", 1)[-1]) for path in refs.templates)
    yield from ((path, f"`{path.split('/')[-2]}.") for path in refs.summaries)
