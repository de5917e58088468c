"""Appendices: a chapter heading with class ``.appendix`` starts the lettered appendices.

``# Derivations {.appendix #sec:derivations}`` is preceded by ``#show: appendices`` (see
templates/thesis.typ), so it and every chapter after it are lettered A, B, ... and a reference to
it reads "Appendix A". The provenance appendix, added after the last chapter, continues the
letters. The rule is emitted once per part; the template ignores a repeat, so parts need not know
about each other.
"""
from __future__ import annotations

import json

import panflute as pf

from manuscript.filters.common import run



def start(doc: pf.Doc) -> pf.RawBlock:
    """The Typst rule that starts the appendices; metadata `labels: {appendix: Anhang}` names
    them in another language ("Anhang A")."""
    labels = doc.get_metadata("labels", {}) or {}
    word = labels.get("appendix") if isinstance(labels, dict) else None
    # JSON string syntax is Typst string syntax (\" and \\ only), so any text is safe here
    rule = f"#show: appendices.with(supplement: {json.dumps(word, ensure_ascii=False)})" if word else "#show: appendices"
    return pf.RawBlock(rule, format="typst")


def prepare(doc: pf.Doc) -> None:
    doc.appendix_started = False


def action(elem, doc: pf.Doc):
    if isinstance(elem, pf.Header) and elem.level == 1 and "appendix" in elem.classes:
        if not doc.appendix_started:
            doc.appendix_started = True
            return [start(doc), elem]
    return None


def finalize(doc: pf.Doc) -> None:
    del doc.appendix_started


def main(doc: pf.Doc | None = None):
    return run(action, prepare, finalize, doc)


if __name__ == "__main__":
    main()
