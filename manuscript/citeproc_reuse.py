"""Citations rendered before, put back without running citeproc, where that is provably the same.

citeproc costs about a quarter of a second per part whatever its size: it renders every
reference of the thesis. What it does to a part's blocks (pandoc's Text.Pandoc.Citeproc) is:
fill each Cite with its rendered text; move punctuation next to a Cite (mvPunct) when the
rendering is a note or superscript, starts with a superscript or ends with a full stop; turn
citations into footnotes for note styles; strip spans of class csl-quoted; fill #refs divs, or
append the bibliography at the end of the document. The rendered text of each citation depends
only on the sequence of citations (the part's and, in order, all others'), the references and
the style. So when a part's sequence of citations and their surroundings are those of an earlier
run, and none of the other effects can occur, the earlier renderings are put into the Cites and
the result is citeproc's; otherwise the caller runs citeproc.
"""
from __future__ import annotations

import copy
import re
from pathlib import Path

from manuscript import ast

_NOTE_STYLE = re.compile(rb"<style\b[^>]*\bclass\s*=\s*[\"']note[\"']")


def citation_sequence(blocks: list) -> list:
    """The part's citations in citeproc's order, without their (not yet rendered) text."""
    return [cite["c"][0] for cite in _cites(blocks)]


def rendered(cited_blocks: list) -> list:
    """What citeproc put into each Cite of a part, in order."""
    return [cite["c"][1] for cite in _cites(cited_blocks)]


def reuse(blocks: list, renderings: list, style_file: str | None, ends_document: bool) -> list | None:
    """`blocks` with `renderings` filled into their Cites (in place), or None, leaving them
    untouched, when citeproc could change more than that (see the module's docstring)."""
    if ends_document or _is_note_style(style_file) or not _plain_blocks(blocks):
        return None
    cites = list(_cites(blocks))
    if len(cites) != len(renderings) or not all(map(_stays_in_place, renderings)):
        return None
    for cite, inlines in zip(cites, renderings):
        cite["c"][1] = copy.deepcopy(inlines)
    return blocks


def _cites(blocks: list):
    return (element for element in ast.elements(blocks) if element["t"] == "Cite")


def _plain_blocks(blocks: list) -> bool:
    """No place for the bibliography and no span citeproc would strip."""
    for element in ast.elements(blocks):
        if element["t"] == "Div" and ast.is_refs_place(ast.attr(element)[0]):
            return False
        if element["t"] == "Span" and element["c"][0] == ["", ["csl-quoted"], []]:
            return False
    return True


def _stays_in_place(inlines: list) -> bool:
    """A rendering next to which mvPunct moves nothing: no note or superscript at its top level
    and no full stop at its end."""
    if any(inline["t"] in ("Note", "Superscript") for inline in inlines):
        return False
    return not _text(inlines).rstrip().endswith(".")


_WRAPPERS = {"Emph", "Strong", "Underline", "Strikeout", "Superscript", "Subscript", "SmallCaps"}
_QUOTES = {"DoubleQuote": "\u201c\u201d", "SingleQuote": "\u2018\u2019"}


def _text(inlines: list) -> str:
    """The text of inlines as pandoc's stringify reads it (notes dropped, quotes shown)."""
    text = []
    for inline in inlines:
        kind, content = inline["t"], inline.get("c")
        if kind == "Str":
            text.append(content)
        elif kind in ("Space", "SoftBreak", "LineBreak"):
            text.append(" ")
        elif kind in ("Code", "Math"):
            text.append(content[1])
        elif kind in _WRAPPERS:
            text.append(_text(content))
        elif kind == "Quoted":
            marks = _QUOTES[content[0]["t"]]
            text.append(marks[0] + _text(content[1]) + marks[1])
        elif kind in ("Span", "Link", "Image", "Cite"):
            text.append(_text(content[1]))
    return "".join(text)


def _is_note_style(style_file: str | None) -> bool:
    """True for a CSL note style, and when the style cannot be read (then nothing is reused)."""
    if style_file is None:
        return False  # pandoc's built-in default, Chicago author-date, is an in-text style
    try:
        return bool(_NOTE_STYLE.search(Path(style_file).read_bytes()[:4096]))
    except OSError:
        return True
