"""Pandoc's JSON AST as plain Python data: walking it without building panflute objects.

Loading a chapter into panflute costs about as much as pandoc's parse; questions that only
read the tree (which figures does it show, which labels does it define) walk the JSON instead.
"""
from __future__ import annotations

import re
from typing import Iterator

# `$$ ... $$ {#eq:x}`: pandoc reads the label as a Str after the maths (filters.crossref).
EQUATION_LABEL = re.compile(r"^\{#(eq:[\w:.\-]+)\}$")


def elements(node) -> Iterator[dict]:
    """Every element (a dict with a "t" tag) under `node`, children before their parent, in
    document order: the order in which panflute's walk visits them."""
    if isinstance(node, dict):
        for value in node.values():
            yield from elements(value)
        if "t" in node:
            yield node
    elif isinstance(node, list):
        for value in node:
            yield from elements(value)


def document_elements(ast: dict) -> Iterator[dict]:
    """Elements of a whole document: the metadata first, then the blocks (panflute's order)."""
    yield from elements(ast.get("meta", {}))
    yield from elements(ast.get("blocks", []))


def attr(element: dict) -> tuple[str, list[str], dict[str, str]]:
    """(identifier, classes, attributes) of an element that has an Attr as its first field."""
    identifier, classes, pairs = element["c"][0]
    return identifier, classes, dict(pairs)


def is_refs_place(identifier: str) -> bool:
    """Whether a div with this id is where citeproc puts the bibliography."""
    return identifier == "refs" or identifier.endswith("__refs")


def tagged(ast_nodes, tag: str) -> Iterator[dict]:
    return (node for node in ast_nodes if node.get("t") == tag)


def sorted_meta(value):
    """Metadata with every map in key order: the order pandoc (a Haskell Map) visits it in."""
    if isinstance(value, dict):
        items = value.items() if "t" in value else sorted(value.items())
        return {key: sorted_meta(item) for key, item in items}
    if isinstance(value, list):
        return [sorted_meta(item) for item in value]
    return value


def reader_notes(node, in_note: bool = False) -> int:
    """How far pandoc's markdown reader counts notes over `node`: one per footnote and one per
    citation outside a footnote. Read on its own, a chapter counts from zero; read after others,
    from their total, and every citation carries that count (`citationNoteNum`)."""
    if isinstance(node, list):
        return sum(reader_notes(item, in_note) for item in node)
    if not isinstance(node, dict):
        return 0
    tag = node.get("t")
    own = 1 if tag == "Note" or (tag == "Cite" and not in_note) else 0
    inside = in_note or tag == "Note"
    return own + sum(reader_notes(value, inside) for key, value in node.items() if key != "t")


def shift_notes(node, offset: int) -> None:
    """Add `offset` to the note number of every citation under `node`, in place."""
    if offset:
        for cite in tagged(elements(node), "Cite"):
            for citation in cite["c"][0]:
                citation["citationNoteNum"] += offset
