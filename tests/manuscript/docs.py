"""Helpers for filter tests: parse markdown like the build does and render it to Typst."""
from __future__ import annotations

from pathlib import Path

import panflute as pf

from manuscript.pandoc import dump_doc, load_doc, run_pandoc


def parse(markdown: str, chapter: str = "chapter.md", **metadata) -> pf.Doc:
    """Write `markdown` to `chapter` in the working directory and parse it like the build does."""
    Path(chapter).write_text(markdown, encoding="utf-8")
    args = ["-f", "markdown", chapter]
    for key, value in {"bibliography": "references.bib", **metadata}.items():
        args += ["-M", f"{key}={value}"]
    doc = load_doc(args)
    doc.metadata["source-files"] = pf.MetaList(pf.MetaString(chapter))
    return doc


def to_typst(doc: pf.Doc) -> str:
    """Render a filtered document with pandoc's Typst writer (no template)."""
    return run_pandoc(["-f", "json", "-t", "typst"], stdin=dump_doc(doc))
