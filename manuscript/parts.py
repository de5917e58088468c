"""The thesis in parts, each run through the filters on its own so that an edit refilters one part.

The parts, in reading order: the title matter (the metadata, holding the abstracts that the
chapters move there), one part per chapter, and the provenance appendix. A chapter's result is
cached under build/cache/ keyed by all it depends on: the chapter's bytes, the settings in the
metadata, every file the filters read for it (figures, tables and their templates, summaries,
the bibliography) and the filters' code. What crosses chapters (labels, cited keys, results
shown) the filters record as facts (see filters.common.Part), and the build checks it across
all parts. A chapter is read on its own: footnote labels, link references and LaTeX macros are
chapter-local, and so is pandoc's numbering of headings' automatic ids (a second "Summary" in
the same chapter is #summary-1, in another chapter #summary again, which the build warns
about); pandoc's note count, which citations carry, is carried over by manuscript.build.
"""
from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import panflute as pf

from manuscript import ast
from manuscript import metadata as metadata_file
from manuscript.cache import digest
from manuscript.cache import key as cache_key
from manuscript.filters import BEFORE_CITEPROC, abstract, provenance
from manuscript.filters.common import Part
from manuscript.pandoc import read_json, read_markdown
from manuscript.scan import chapter_meta, scan_chapter

# What the abstract filter moves from a chapter into the metadata.
ABSTRACT_KEYS = ("abstract", "abstract-title", "extra-abstracts")
RAW = ("RawBlock", "RawInline")
# The Typst figure kind pandoc's writer makes of an element.
FIGURE_KIND = {"Figure": "image", "Table": "table"}
AFTER_ABSTRACT = BEFORE_CITEPROC[BEFORE_CITEPROC.index(abstract) + 1:]
AFTER_PROVENANCE = BEFORE_CITEPROC[BEFORE_CITEPROC.index(provenance) + 1:]


@dataclass
class Settings:
    """The document metadata every part is filtered with (metadata file and chapter YAML)."""
    meta: dict       # pandoc JSON, keys in pandoc's order
    api: list        # pandoc-api-version of the JSON
    key: str         # digest of what of it the filters' results depend on
    cache: object    # manuscript.cache.Cache
    _reader: pf.Doc | None = field(default=None, repr=False)  # for `get`, made at its first call

    def doc(self, blocks: list, meta: dict | None = None, *, walk_metadata: bool = False,
            files: list | None = None, region: str = "body") -> pf.Doc:
        """A fresh panflute part (filters change what they are given) with these settings;
        `files` and `region` say where its text is (common.Part)."""
        source = {"pandoc-api-version": self.api, "meta": self.meta if meta is None else meta,
                  "blocks": blocks}
        doc = pf.load(io.StringIO(json.dumps(source)))
        doc.part = Part(walk_metadata=walk_metadata, cache=self.cache, files=files or [], region=region)
        return doc

    def get(self, key: str, default):
        """A setting as plain Python (panflute's get_metadata)."""
        if self._reader is None:
            self._reader = self.doc([])
        value = self._reader.get_metadata(key, default)
        return default if value is None else value


def read_settings(metadata: str, chapters: list[str], cache) -> Settings:
    """`metadata` (YAML, read as pandoc's --metadata-file reads it) under the chapters' own YAML
    blocks (a later one wins), with `source-files` naming the chapters for error messages."""
    base = cache.remember("metadata", cache_key("metadata", files=[metadata]),
                          lambda: _read_metadata_file(metadata))
    meta = dict(base["meta"])
    for chapter in chapters:
        meta.update(chapter_meta(chapter, cache))
    meta = dict(sorted(meta.items()))
    meta["source-files"] = {"t": "MetaList", "c": [{"t": "MetaString", "c": c} for c in chapters]}
    filtered_on = {k: v for k, v in meta.items() if k != "source-files"}  # only errors name the files
    settings = Settings(meta, base["pandoc-api-version"], digest(filtered_on), cache)
    _check_style(settings.get("csl", None), cache)
    return settings


def _read_metadata_file(metadata: str) -> dict:
    """A changed metadata file, checked (its YAML and settings, at their lines) and read."""
    metadata_file.check(metadata)
    return read_json(["-f", "markdown", "--metadata-file", metadata, "-t", "json"])


def _check_style(csl, cache) -> None:
    """A CSL style citeproc would fail on is an error at its line; checked once per version."""
    if not isinstance(csl, str) or not Path(csl).is_file():
        return  # no style, or a missing one: pandoc's own error names it
    key = cache_key("csl", files=[csl])
    if cache.get("csl", key) is None:
        metadata_file.check_csl(csl)
        cache.put("csl", key, True)


@dataclass
class Chapter:
    """One chapter after the filters: `key` names its cached blocks; `facts` is what crosses parts."""
    path: str
    key: str
    facts: dict


def filter_chapter(path: str, settings: Settings) -> Chapter:
    key = cache_key("chapter", settings.key, files=[path, *_inputs(path, settings)])
    facts = settings.cache.get("chapter-facts", key)
    if facts is not None and settings.cache.has("chapter-blocks", key):
        return Chapter(path, key, facts)
    blocks, facts = _filter_chapter(path, settings)
    settings.cache.put("chapter-blocks", key, blocks)
    settings.cache.put("chapter-facts", key, facts)
    return Chapter(path, key, facts)


def chapter_blocks(chapter: Chapter, settings: Settings) -> list:
    blocks = settings.cache.get("chapter-blocks", chapter.key)
    return blocks if blocks is not None else _filter_chapter(chapter.path, settings)[0]


def _filter_chapter(path: str, settings: Settings) -> tuple[list, dict]:
    source = read_markdown(path, settings.cache)
    meta = {k: v for k, v in settings.meta.items() if k not in ABSTRACT_KEYS}
    doc = settings.doc(source["blocks"], meta, files=[path])
    doc = abstract.main(doc)
    moved = {k: doc.metadata[k].to_json() for k in ABSTRACT_KEYS if k in doc.metadata}
    for module in AFTER_ABSTRACT:
        doc = module.main(doc)
    blocks = doc.content.to_json()
    facts = {**doc.part.facts, **body_facts(blocks), "abstract": moved,
             "notes": ast.reader_notes(source["blocks"]),
             "raw_typst": _has_raw_typst(source["blocks"])}
    return blocks, facts


def body_facts(blocks: list) -> dict:
    """What the later steps need of a filtered body: whether it has any blocks, its citations
    in order, whether it has the bibliography's place (a div #refs), its code blocks with a
    language, its headings' ids, the kinds of Typst figure pandoc's writer makes of it."""
    elements = list(ast.elements(blocks))
    return {
        "has_blocks": bool(blocks),
        "figure_kinds": figure_kinds(elements),
        "heading_ids": [e["c"][1][0] for e in elements if e["t"] == "Header" and e["c"][1][0]],
        "cites": [e for e in elements if e["t"] == "Cite"],
        "has_refs": any(e["t"] == "Div" and ast.is_refs_place(ast.attr(e)[0]) for e in elements),
        "code_blocks": [e for e in elements if e["t"] == "CodeBlock" and ast.attr(e)[1]],
    }


def figure_kinds(elements: list[dict]) -> list[str]:
    """Which lists a part's figures may go to: "image" for a pandoc Figure, "table" for a table
    (the writer makes each a Typst figure of kind table). A Figure holding a table or code
    counts as an image too: at worst a list is printed empty, never left out with entries."""
    return sorted({FIGURE_KIND[e["t"]] for e in elements if e["t"] in FIGURE_KIND})


def _has_raw_typst(blocks: list) -> bool:
    """Whether the author wrote raw Typst (read before the filters, which add their own)."""
    return any(e["t"] in RAW and e["c"][0] == "typst" for e in ast.elements(blocks))


def _inputs(path: str, settings: Settings) -> list[str]:
    """Every file the filters read for this chapter."""
    templates = settings.get("table-templates", "templates")
    refs = scan_chapter(path, templates, settings.get("results-root", "results"), settings.cache)
    return [*refs.figures, *refs.tables, *refs.templates, *refs.summaries,
            *[str(Path(t).parent / "summary.json") for t in refs.tables],
            *(sorted(str(p) for p in Path(templates).glob("*")) if refs.tables else []),
            *_bibliographies(settings)]


def _bibliographies(settings: Settings) -> list[str]:
    files = settings.get("bibliography", [])
    return [files] if isinstance(files, str) else list(files)


def title_matter(settings: Settings, chapters: list[Chapter], offsets: list[int]) -> tuple[dict, dict]:
    """The metadata with the chapters' abstracts, after the filters: (metadata, facts)."""
    meta, extra = dict(settings.meta), []
    for chapter, offset in zip(chapters, offsets):
        moved = json.loads(json.dumps(chapter.facts["abstract"]))  # a copy to renumber
        ast.shift_notes(moved, offset)
        meta.update({k: v for k, v in moved.items() if k != "extra-abstracts"})
        extra += moved.get("extra-abstracts", {}).get("c", [])
    if extra:
        meta["extra-abstracts"] = {"t": "MetaList", "c": extra}
    with_abstracts = [chapter.path for chapter in chapters if chapter.facts["abstract"]]
    doc = settings.doc([], meta, walk_metadata=True, files=with_abstracts, region="abstract")
    for module in BEFORE_CITEPROC:
        doc = module.main(doc)
    filtered = doc.to_json()["meta"]
    cites = [e for e in ast.elements(ast.sorted_meta(filtered)) if e["t"] == "Cite"]
    return filtered, {**doc.part.facts, **body_facts([]), "cites": cites}


def appendix(settings: Settings, shown: dict) -> tuple[list, dict]:
    """The provenance appendix for everything the parts show, after the filters that follow
    provenance: (blocks, facts); no blocks when there is nothing to show."""
    files = provenance.sources(shown, settings.doc([])) + _bibliographies(settings)
    key = cache_key("appendix", shown, settings.key, files=files)
    blocks, facts = settings.cache.remember("appendix", key, lambda: _appendix(settings, shown))
    return blocks, facts


def _appendix(settings: Settings, shown: dict) -> list:
    blocks = [block.to_json() for block in provenance.appendix(shown, settings.doc([]))]
    if not blocks:
        return [[], {"labels": [], "references": [], "cited": [], **body_facts([])}]
    doc = settings.doc(blocks)
    for module in AFTER_PROVENANCE:
        doc = module.main(doc)
    blocks = doc.content.to_json()
    return [blocks, {**doc.part.facts, **body_facts(blocks)}]
