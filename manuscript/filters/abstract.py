"""Abstracts: a chapter headed ``# Abstract {.abstract}`` moves into the title matter.

The template prints abstracts on their own pages before the contents, so their text must leave
the body. The first abstract in the main language fills `abstract` and `abstract-title`; one
with another ``lang=`` (a Hebrew abstract, say) is added to `extra-abstracts`, right-to-left
for scripts that read that way.
"""
from __future__ import annotations

import panflute as pf

from manuscript.filters.common import run, stringify

RIGHT_TO_LEFT = {"he", "ar", "fa", "ur", "yi"}


def prepare(doc: pf.Doc) -> None:
    body, extra = [], []
    blocks = list(doc.content)
    while blocks:
        block = blocks.pop(0)
        if not (isinstance(block, pf.Header) and block.level == 1 and "abstract" in block.classes):
            body.append(block)
            continue
        text = _take_section(blocks)
        _store(doc, block, text, extra)
    if extra:
        doc.metadata["extra-abstracts"] = pf.MetaList(*extra)
    doc.content = body


def _take_section(blocks: list) -> list:
    """Pop blocks up to (not including) the next level-1 heading."""
    section = []
    while blocks and not (isinstance(blocks[0], pf.Header) and blocks[0].level == 1):
        section.append(blocks.pop(0))
    return section


def _store(doc: pf.Doc, header: pf.Header, text: list, extra: list) -> None:
    lang = header.attributes.get("lang", "")
    main_lang = doc.get_metadata("lang", "en") or "en"
    if not lang or lang.split("-")[0] == main_lang.split("-")[0]:
        doc.metadata["abstract"] = pf.MetaBlocks(*text)
        doc.metadata["abstract-title"] = pf.MetaInlines(*header.content)
        return
    direction = "rtl" if lang.split("-")[0] in RIGHT_TO_LEFT else "ltr"
    extra.append(pf.MetaMap(
        title=pf.MetaInlines(pf.Str(stringify(header))),
        lang=pf.MetaString(lang),
        dir=pf.MetaString(direction),
        body=pf.MetaBlocks(*text),
    ))


def action(elem, doc: pf.Doc):
    return None


def finalize(doc: pf.Doc) -> None:
    pass


def main(doc: pf.Doc | None = None):
    return run(action, prepare, finalize, doc)


if __name__ == "__main__":
    main()
