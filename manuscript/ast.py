"""Pandoc's JSON AST as plain Python data: walking it without building panflute objects.

Loading a chapter into panflute costs about as much as pandoc's parse; questions that only
read the tree (which figures does it show, which labels does it define) walk the JSON instead.
"""
from __future__ import annotations

from typing import Callable, Iterator


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


def tagged(ast_nodes, tag: str) -> Iterator[dict]:
    return (node for node in ast_nodes if node.get("t") == tag)


def count(node, keep: Callable[[dict], bool]) -> int:
    return sum(1 for element in elements(node) if keep(element))
