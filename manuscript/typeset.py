"""From filtered parts to Typst: citeproc per part, then manuscript.writer, then the template.

Citation numbers, disambiguation and the bibliography depend on every citation of the thesis,
so each part goes through citeproc with all the other parts' citations around it, in reading
order (the title matter's first, as pandoc reads metadata first), and with a stand-in #refs div
to catch the bibliography where the part has none; both are cut away afterwards. The Typst of
a part is cached, keyed by the part and those citations: prose edits in one chapter leave every
other part's Typst as it was. The parts' Typst, joined as pandoc's writer separates blocks,
fills the body of the title matter's rendering of templates/thesis.pandoc.typ (`frame`).
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Callable

import panflute as pf

from manuscript.cache import key as cache_key
from manuscript.filters import AFTER_CITEPROC
from manuscript.pandoc import run_pandoc
from manuscript.writer import Typeset, cite_and_write, typeset_blocks

TEMPLATE = "templates/thesis.pandoc.typ"
# The metadata pandoc's citeproc reads (Text.Pandoc.Citeproc); nothing else reaches it.
CITEPROC_KEYS = ("bibliography", "csl", "citation-style", "citation-abbreviations", "lang",
                 "locale", "link-citations", "link-bibliography", "nocite", "references",
                 "suppress-bibliography", "notes-after-punctuation", "reference-section-title")
BEGIN, END = "//@@ part begins", "//@@ part ends"


@dataclass
class Context:
    """The citations of the thesis before and after a part, and whether the bibliography goes
    elsewhere (a stand-in #refs div then takes it)."""
    before: list
    after: list
    refs_elsewhere: bool


@dataclass
class PartJob:
    """What typesetting one part takes; `blocks` is only called when its Typst is not cached."""
    key: str            # names the part's Typst in the cache: see part_key
    blocks: Callable    # gives the part's filtered blocks
    context: Context


def part_key(settings, source_key: str, context: Context) -> str:
    return cache_key("typeset", source_key, context.__dict__, settings.key,
                     files=citeproc_files(settings))


def citeproc_files(settings) -> list[str]:
    """The files citeproc reads (bibliographies, style, abbreviations)."""
    names = []
    for key in ("bibliography", "csl", "citation-style", "citation-abbreviations"):
        value = settings.get(key, [])
        names += [value] if isinstance(value, str) else list(value)
    return names


def typeset_part(settings, job: PartJob) -> Typeset:
    """The part's Typst, from the cache when nothing it depends on changed."""
    cached = settings.cache.get("typeset", job.key)
    if cached is not None:
        typeset = Typeset(**cached)
    else:
        typeset = _typeset(settings, job.blocks(), job.context)
        settings.cache.put("typeset", job.key, typeset.__dict__)
    for warning in typeset.warnings:
        print(warning, file=sys.stderr)
    return typeset


def _typeset(settings, blocks: list, context: Context) -> Typeset:
    """A part whose bibliography goes to another part is cited and written in one pandoc run;
    the part holding it goes through citeproc, the AFTER_CITEPROC filters and the writer."""
    if not blocks:
        return typeset_blocks(settings, blocks)
    if context.refs_elsewhere:
        return cite_and_write(settings, blocks, _around(context))
    return typeset_blocks(settings, cite(settings, blocks, context))


def _around(context: Context) -> tuple[list, list]:
    """The rest of the thesis as citeproc sees it around a part: the citations before and after
    it, and a stand-in #refs div where the bibliography goes to another part."""
    stand_in = [_refs_stand_in()] if context.refs_elsewhere else []
    return _paragraph(context.before), [*_paragraph(context.after), *stand_in]


def cite(settings, blocks: list, context: Context) -> list:
    """The blocks after citeproc, run with the rest of the thesis's citations around them.

    A part with nothing after it ends the document as citeproc sees it, so that a bibliography
    with no #refs div to go to is added at its end (after a last heading, if it has one)."""
    meta = {k: v for k, v in settings.meta.items() if k in CITEPROC_KEYS}
    ends_document = not context.after and not context.refs_elsewhere
    before, after = _around(context)
    tail = [] if ends_document else [_marker(END), *after]
    cited = _citeproc(settings, meta, [*before, _marker(BEGIN), *blocks, *tail])
    start = cited["blocks"].index(_marker(BEGIN)) + 1
    end = None if ends_document else cited["blocks"].index(_marker(END))
    return cited["blocks"][start:end]


def title_matter(settings, meta: dict, context: Context) -> tuple[dict, str]:
    """The title matter after citeproc and the bibliography links: (metadata, its characters),
    from the cache while the metadata and the thesis's citations are unchanged (a prose edit:
    citeproc here costs 0.17 s of a 2.7 s rebuild)."""
    key = cache_key("title", meta, context.__dict__, settings.key, files=citeproc_files(settings))
    cited_meta, chars = settings.cache.remember(
        "title", key, lambda: _cited_title_matter(settings, meta, context))
    return cited_meta, chars


def _cited_title_matter(settings, meta: dict, context: Context) -> tuple[dict, str]:
    blocks = [*_paragraph(context.after), _refs_stand_in()]
    cited = _citeproc(settings, meta, blocks)["meta"]
    doc = settings.doc([], cited, walk_metadata=True)
    for module in AFTER_CITEPROC:
        doc = module.main(doc)
    return doc.to_json()["meta"], _chars(doc)


def frame(settings, meta: dict, code_blocks: list) -> tuple[str, str]:
    """templates/thesis.pandoc.typ rendered with the title matter: (text before the body, after).

    The parts' code blocks go through the writer here too, so that it defines the highlighting
    functions they need when any of them is highlighted; they are cut away with the body.
    Cached: a prose edit changes neither (pandoc here costs 0.03 s of a rebuild)."""
    key = cache_key("frame", meta, code_blocks, settings.api, files=[TEMPLATE])
    before, after = settings.cache.remember(
        "frame", key, lambda: _rendered_frame(settings, meta, code_blocks))
    return before, after


def _rendered_frame(settings, meta: dict, code_blocks: list) -> tuple[str, str]:
    source = {"pandoc-api-version": settings.api, "meta": meta,
              "blocks": [_marker(BEGIN), *code_blocks, _marker(END)]}
    text = run_pandoc(["-f", "json", "-t", "typst", "--template", TEMPLATE], stdin=json.dumps(source))
    return text[:text.index(BEGIN)], text[text.rindex(END) + len(END):]


def _citeproc(settings, meta: dict, blocks: list) -> dict:
    source = {"pandoc-api-version": settings.api, "meta": meta, "blocks": blocks}
    return json.loads(run_pandoc(["-f", "json", "-t", "json", "--citeproc"], stdin=json.dumps(source)))


def _chars(doc: pf.Doc) -> str:
    return "".join(sorted(set(pf.stringify(doc))))


def _paragraph(cites: list) -> list:
    if not cites:
        return []
    inlines = [cites[0]]
    for cite in cites[1:]:
        inlines += [{"t": "Space"}, cite]
    return [{"t": "Para", "c": inlines}]


def _marker(text: str) -> dict:
    return {"t": "RawBlock", "c": ["typst", text]}


def _refs_stand_in() -> dict:
    return {"t": "Div", "c": [["refs", [], []], []]}
