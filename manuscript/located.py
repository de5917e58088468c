"""Errors found after the chapters were joined, placed back at the chapter line they come from.

Pandoc's Typst writer and the Typst compiler see the whole thesis, not the chapters: the writer
names only the TeX it could not convert, Typst a line of build/thesis.typ. What the chapter
wrote verbatim (the TeX, a raw Typst block) is found again in the chapters (manuscript.sourcepos).
"""
from __future__ import annotations

import re
from pathlib import Path

from manuscript import ast
from manuscript.errors import SourceError
from manuscript.pandoc import UnconvertibleMath, read_markdown
from manuscript.sourcepos import find_line

# Typst's diagnostics name the place as: ┌─ build/thesis.typ:39:1
_TYPST_LOCATION = re.compile(r"┌─\s+(?P<file>.+?):(?P<line>\d+):\d+")


def math_error(error: UnconvertibleMath, chapters: list[str]) -> SourceError:
    """The error at the first chapter line with that TeX (in the body, else in an abstract)."""
    for region in ("body", "abstract"):
        file, line = find_line(chapters, "math", error.tex, 1, region)
        if line is not None:
            return SourceError(error.message, file, line)
    return error


def typst_error(message: str, diagnostic: str, source: Path, chapters: list[str],
                cache=None) -> SourceError:
    """Typst's error at its file and line; one in `source` (the generated thesis.typ) that lies
    in a chapter's raw Typst is placed at that line of the chapter."""
    message = " ".join(message.split())[:400]
    match = _TYPST_LOCATION.search(diagnostic or "")
    if match is None:
        return SourceError(message, str(source))
    file, line = match["file"], int(match["line"])
    if Path(file).resolve() == source.resolve():
        placed = _in_raw_typst(line, source.read_text(encoding="utf-8"), chapters, cache)
        if placed is not None:
            return SourceError(f"in raw Typst: {message}", *placed)
    return SourceError(message, file, line)


def _in_raw_typst(line: int, typst: str, chapters: list[str], cache) -> tuple[str, int] | None:
    """(chapter, line) of the chapter's raw Typst that the generated file has at `line`."""
    for chapter in chapters:
        raws = ast.elements(read_markdown(chapter, cache)["blocks"])
        for text in dict.fromkeys(e["c"][1] for e in raws if _is_raw_typst(e)):
            for start in _lines_holding(typst, text):
                if start <= line < start + text.count("\n") + 1:
                    return chapter, _chapter_line(chapter, text) + line - start
    return None


def _is_raw_typst(element: dict) -> bool:
    return element["t"] in ("RawBlock", "RawInline") and element["c"][0] == "typst"


def _lines_holding(typst: str, text: str) -> list[int]:
    """The line of `typst` at which each copy of `text` begins."""
    starts, index = [], typst.find(text)
    while text and index >= 0:
        starts.append(typst.count("\n", 0, index) + 1)
        index = typst.find(text, index + 1)
    return starts


def _chapter_line(chapter: str, text: str) -> int:
    """The chapter line where the raw text begins: the text's first line, looked for backwards
    from the line where the element ends (that of its closing fence, for a block)."""
    _, end = find_line([chapter], "raw", text)
    lines = Path(chapter).read_text(encoding="utf-8").splitlines()
    first = text.splitlines()[0].strip() if text.strip() else ""
    for number in range(end or len(lines), 0, -1):
        if first and first in lines[number - 1]:
            return number
    return end or 1
