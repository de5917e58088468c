"""From cited blocks to Typst: the bibliography links, then pandoc's Typst writer.

A part's Typst is written on its own (manuscript.typeset caches it per part); `join` puts the
parts together with the blank lines pandoc's writer would put between their blocks. The writer
runs on blocks between raw markers it copies through, so that what it puts before and after
the blocks can be told from them.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import panflute as pf

from manuscript.filters import AFTER_CITEPROC
from manuscript.pandoc import run_pandoc

BEGIN, END = "//@@ blocks begin", "//@@ blocks end"


@dataclass
class Typeset:
    """Typst without the blank lines around it, which `join` puts back."""
    typst: str
    lead: bool    # pandoc's writer puts a blank line before the first block
    trail: bool   # ... and after the last
    chars: str    # every character of the text, for choosing fonts
    warnings: list = field(default_factory=list)  # lines for stderr, on every build


def typeset_blocks(settings, blocks: list) -> Typeset:
    """Cited `blocks` linked (the filters that follow citeproc) and written as Typst."""
    doc = settings.doc(blocks)
    for module in AFTER_CITEPROC:
        doc = module.main(doc)
    chars = "".join(sorted({c for block in doc.content for c in pf.stringify(block)}))
    return Typeset(*write(settings, doc.content.to_json()), chars=chars,
                   warnings=list(getattr(doc, "warnings", [])))


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


def write(settings, blocks: list, around: tuple | None = None) -> tuple[str, bool, bool]:
    """(Typst, blank line before, blank line after) as pandoc's writer renders these blocks.

    Given `around` (blocks before, blocks after) as the rest of the document, pandoc cites them
    first and writes each citation as the text citeproc rendered for it (the writer's
    `citations` extension off), which is what the AFTER_CITEPROC filters make of a Cite."""
    before, after = around or ((), ())
    marked = [*before, _marker(BEGIN), *blocks, _marker(END), *after]
    source = {"pandoc-api-version": settings.api, "meta": settings.meta, "blocks": marked}
    to = ["-t", "typst-citations", "--citeproc"] if around is not None else ["-t", "typst"]
    text = run_pandoc(["-f", "json", *to], stdin=json.dumps(source))
    start = text.index(BEGIN + "\n") + len(BEGIN) + 1
    inner = text[start:text.index(f"\n{END}\n", start - 1) + 1]  # from start - 1: no blocks
    lead = inner.startswith("\n")
    inner = inner[1:] if lead else inner
    trail = inner.endswith("\n\n")
    return inner[:-2] if trail else inner[:-1], lead, trail


def cite_and_write(settings, blocks: list, around: tuple) -> Typeset:
    """Blocks with no bibliography in them cited and written by one pandoc run. After citeproc,
    the AFTER_CITEPROC filters change only Cites in such blocks (the bibliography's entries are
    elsewhere), as the writer does itself; a second run and the trip through panflute cost
    0.2 s of a one-sentence rebuild and 1-2 s of a build from an empty cache. The characters,
    for choosing fonts, are the Typst's: its markup adds ASCII, which every font draws, and
    labels and link addresses, whose letters can at worst add a fallback font."""
    typst, lead, trail = write(settings, blocks, around)
    return Typeset(typst, lead, trail, chars="".join(sorted(set(typst))))


def _marker(text: str) -> dict:
    return {"t": "RawBlock", "c": ["typst", text]}
