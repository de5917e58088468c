"""The line of a chapter on which an element (a citation, a label, a result, ...) begins.

Pandoc's markdown reader keeps no source positions, and pandoc's only reader that does
(commonmark_x+sourcepos) does not read our chapters' forms: in pandoc 3.9 it has no citations,
and `$$...$$ {#eq:x}` or `Text {#sec:x}` come out as other elements. So an error is placed by
the reader that built the thesis, on the error path only: the element is named by its kind, its
key and its ordinal among the chapter's elements of that kind and key (in the order the filters
walk them), and the chapter's first N lines are parsed for growing N until that many such
elements exist (a bisection: ten pandoc runs, 1.6 s on two cores, for the 10th use of a key
on line 728 of a 729-line chapter).

An element inside a footnote shows up in the tree where the note is referenced but in the text
where the note is defined, so notes and body text are counted apart. Abstract sections leave a
chapter's body for the title matter (filters.abstract); `region` says which of the two to count.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from manuscript.ast import EQUATION_LABEL
from manuscript.errors import SourceError
from manuscript.pandoc import run_pandoc

_ATTR_FIRST = {"Code", "CodeBlock", "Div", "Figure", "Image", "Link", "Span", "Table"}


def identifier(element: dict) -> str:
    """The id of an element that has one; "" otherwise."""
    if element["t"] == "Header":
        return element["c"][1][0]
    return element["c"][0][0] if element["t"] in _ATTR_FIRST else ""


def _label(element: dict, key: str) -> bool:
    if element["t"] == "Str":
        match = EQUATION_LABEL.match(element["c"])
        return bool(match) and match[1] == key
    return identifier(element) == key


def _classes(element: dict) -> list[str]:
    return element["c"][0][1] if element["t"] in _ATTR_FIRST else []


# What each kind of element is, as a test on pandoc's JSON given the key the filter names.
KINDS: dict[str, Callable[[dict, str], bool]] = {
    "cite": lambda e, key: e["t"] == "Cite" and any(c["citationId"] == key for c in e["c"][0]),
    "label": _label,
    "result": lambda e, key: e["t"] == "Code" and "result" in _classes(e) and e["c"][1].strip() == key,
    "image": lambda e, key: e["t"] == "Image" and e["c"][2][0] == key,
    "results-table": lambda e, key: (e["t"] == "Div" and "results-table" in _classes(e)
                                     and dict(e["c"][0][2]).get("data", "") == key),
    "math": lambda e, key: e["t"] == "Math" and e["c"][1] == key,
    "raw": lambda e, key: e["t"] in ("RawBlock", "RawInline") and e["c"][1] == key,
}


def find_line(files: list[str], kind: str, key: str, ordinal: int = 1,
              region: str = "body") -> tuple[str | None, int | None]:
    """(file, line) of the `ordinal`-th element (1 = first) of `kind` and `key` in `files` read
    one after another; (the only file, None) or (None, None) when it cannot be found."""
    test = KINDS[kind]
    for name in files:
        try:
            text = _text(name)
            found = _matches(_parse(text), test, key, region)
        except (OSError, SourceError):
            continue
        if ordinal <= len(found):
            return name, _bisect(text, test, key, region, found, ordinal)
        ordinal -= len(found)
    return (files[0] if len(files) == 1 else None), None


def _text(name: str) -> str:
    return Path(name).read_bytes().decode("utf-8", errors="replace")


def _parse(text: str) -> list:
    return json.loads(run_pandoc(["-f", "markdown", "-t", "json"], stdin=text, lenient=True))["blocks"]


def _bisect(text: str, test, key: str, region: str, found: list[bool], ordinal: int) -> int | None:
    """The first line by which the element has been read: the fewest lines of `text` whose
    parse holds `ordinal` elements of the same place (note or body) as the one sought."""
    in_note = found[ordinal - 1]
    wanted = found[:ordinal].count(in_note)
    lines = text.splitlines(keepends=True)
    low, high = 1, len(lines)
    while low < high:
        middle = (low + high) // 2
        try:
            seen = _matches(_parse("".join(lines[:middle])), test, key, region).count(in_note)
        except SourceError:
            seen = 0
        low, high = (low, middle) if seen >= wanted else (middle + 1, high)
    return low if lines else None


def _matches(blocks: list, test, key: str, region: str) -> list[bool]:
    """For each element passing `test`, in the filters' walk order: whether it is in a note."""
    found: list[bool] = []
    for block in _region(blocks, region):
        _collect(block, test, key, False, found)
    return found


def _collect(node, test, key: str, in_note: bool, found: list[bool]) -> None:
    """Children before their parent, in document order (the order of manuscript.ast.elements)."""
    if isinstance(node, list):
        for item in node:
            _collect(item, test, key, in_note, found)
    elif isinstance(node, dict):
        inside = in_note or node.get("t") == "Note"
        for value in node.values():
            _collect(value, test, key, inside, found)
        if "t" in node and test(node, key):
            found.append(in_note)


def _region(blocks: list, region: str) -> list:
    """The body without its abstract sections, or only those sections (see filters.abstract)."""
    kept, in_abstract = [], False
    for block in blocks:
        if block["t"] == "Header" and block["c"][0] == 1:
            in_abstract = "abstract" in block["c"][1][1]
        if in_abstract == (region == "abstract"):
            kept.append(block)
    return kept


def error_at_element(message: str, files: list[str], kind: str, key: str, ordinal: int = 1,
                     region: str = "body") -> SourceError:
    """A SourceError at the line where that element begins (see find_line)."""
    return SourceError(message, *find_line(files, kind, key, ordinal, region))
