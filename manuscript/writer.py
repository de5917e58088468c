"""From cited blocks to Typst, section by section, each section's Typst cached under its blocks.

A part's blocks are cut into sections at their top-level headings. Each section goes through the
filters that follow citeproc (the bibliography links) and pandoc's Typst writer, and its Typst
is kept in build/cache keyed by its blocks, so an edit rewrites one section. The sections that
need writing go through one pandoc process, separated by raw markers the writer copies through;
`join` puts them together with the blank lines pandoc's writer would put between their blocks.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import panflute as pf

from manuscript.cache import key as cache_key
from manuscript.filters import AFTER_CITEPROC
from manuscript.pandoc import run_pandoc

BEGIN, END = "//@@ section begins", "//@@ section ends"


@dataclass
class Typeset:
    """Typst without the blank lines around it, which `join` puts back."""
    typst: str
    lead: bool    # pandoc's writer puts a blank line before the first block
    trail: bool   # ... and after the last
    chars: str    # every character of the text, for choosing fonts


def typeset_blocks(settings, blocks: list, files: list[str]) -> Typeset:
    """Linked and written Typst of cited `blocks`; `files` are those the links depend on (the
    bibliography)."""
    sections = _sections(blocks)
    keys = [cache_key("section", section, settings.key, files=files) for section in sections]
    done = [settings.cache.get("section", key) for key in keys]
    missing = [index for index, value in enumerate(done) if value is None]
    if missing:
        for index, typeset in zip(missing, _typeset(settings, [sections[i] for i in missing])):
            settings.cache.put("section", keys[index], typeset.__dict__)
            done[index] = typeset.__dict__
    return combine([Typeset(**value) for value in done])


def combine(parts: list[Typeset]) -> Typeset:
    """Consecutive pieces as one."""
    written = [part for part in parts if part.typst]
    chars = "".join(sorted({c for part in parts for c in part.chars}))
    if not written:
        return Typeset("", False, False, chars)
    return Typeset(join(written), written[0].lead, written[-1].trail, chars)


def join(parts: list[Typeset]) -> str:
    """Pieces of Typst as one: a blank line between two where pandoc's writer would put one
    (after a paragraph, say, but not after a heading's label)."""
    text, previous = "", None
    for part in parts:
        if not part.typst:
            continue
        if previous is not None:
            text += "\n\n" if previous.trail or part.lead else "\n"
        text, previous = text + part.typst, part
    return text


def write(settings, blocks: list) -> tuple[str, bool, bool]:
    """(Typst, blank line before, blank line after) as pandoc's writer renders these blocks."""
    return _write_many(settings, [blocks])[0]


def _sections(blocks: list) -> list[list]:
    sections: list[list] = []
    for block in blocks:
        if not sections or block["t"] == "Header":
            sections.append([])
        sections[-1].append(block)
    return sections


def _typeset(settings, sections: list[list]) -> list[Typeset]:
    """Link the sections (as one panflute document: one load) and write them (one pandoc)."""
    doc = settings.doc([block for section in sections for block in section])
    for module in AFTER_CITEPROC:
        doc = module.main(doc)
    linked, chars, start = [], [], 0
    for section in sections:  # the links change blocks, never how many there are
        blocks = list(doc.content[start:start + len(section)])
        linked.append([block.to_json() for block in blocks])
        chars.append("".join(sorted({c for block in blocks for c in pf.stringify(block)})))
        start += len(section)
    written = _write_many(settings, linked)
    return [Typeset(*text, chars=used) for text, used in zip(written, chars)]


def _write_many(settings, sections: list[list]) -> list[tuple[str, bool, bool]]:
    blocks = []
    for index, section in enumerate(sections):
        blocks += [_marker(f"{BEGIN} {index}"), *section, _marker(f"{END} {index}")]
    source = {"pandoc-api-version": settings.api, "meta": settings.meta, "blocks": blocks}
    text = run_pandoc(["-f", "json", "-t", "typst"], stdin=json.dumps(source))
    return [_between(text, index) for index in range(len(sections))]


def _between(text: str, index: int) -> tuple[str, bool, bool]:
    """The writer's text between a section's markers, without the blank lines at its ends."""
    begin, end = f"{BEGIN} {index}\n", f"\n{END} {index}\n"
    start = text.index(begin) + len(begin)
    inner = text[start:text.index(end, start - 1) + 1]  # from start - 1: a section may be empty
    lead = inner.startswith("\n")
    inner = inner[1:] if lead else inner
    trail = inner.endswith("\n\n")
    return inner[:-2] if trail else inner[:-1], lead, trail


def _marker(text: str) -> dict:
    return {"t": "RawBlock", "c": ["typst", text]}
