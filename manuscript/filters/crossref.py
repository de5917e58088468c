"""Cross-references: ``@fig:x``, ``@tbl:x``, ``@sec:x`` and ``@eq:x`` become engine-numbered links.

Labels come from ``{#fig:x}`` on images, ``{#tbl:x}`` on tables and results-table divs,
``{#sec:x}`` on headings and ``{#eq:x}`` after display maths. A reference is handed to Typst as
``#ref(<label>)``, so Typst both numbers it ("Figure 3") and links it to its target; ``-@fig:x``
gives the bare number. An unknown or duplicated label stops the build at the chapter line.
"""
from __future__ import annotations

import re

import panflute as pf

from manuscript.errors import error_at
from manuscript.filters.common import run, source_files

PREFIXES = ("fig", "tbl", "sec", "eq")
_EQUATION_LABEL = re.compile(r"^\{#(eq:[\w:.\-]+)\}$")


def is_crossref(key: str) -> bool:
    return key.split(":", 1)[0] in PREFIXES and ":" in key


def prepare(doc: pf.Doc) -> None:
    doc.labels = set()
    doc.walk(lambda elem, doc: _collect_label(elem, doc))


def action(elem, doc: pf.Doc):
    if isinstance(elem, pf.Para):
        _label_equations(elem)
    if isinstance(elem, pf.Cite) and any(is_crossref(c.id) for c in elem.citations):
        return reference(elem, doc)
    return None


def finalize(doc: pf.Doc) -> None:
    del doc.labels


def _collect_label(elem, doc: pf.Doc) -> None:
    label = getattr(elem, "identifier", "") or ""
    if isinstance(elem, pf.Str):
        match = _EQUATION_LABEL.match(elem.text)
        label = match[1] if match else ""
    if not is_crossref(label):
        return
    if label in doc.labels:
        raise error_at(f"label '{label}' is defined twice", "{#" + label + "}", source_files(doc))
    doc.labels.add(label)


def _label_equations(para: pf.Para) -> None:
    """Turn `$$...$$ {#eq:x}` into the equation followed by a Typst label `<eq:x>`."""
    items = list(para.content)
    for index, item in enumerate(items):
        match = isinstance(item, pf.Str) and _EQUATION_LABEL.match(item.text)
        if not match:
            continue
        before = [i for i in items[:index] if not isinstance(i, (pf.Space, pf.SoftBreak))]
        if before and isinstance(before[-1], pf.Math) and before[-1].format == "DisplayMath":
            para.content[index] = pf.RawInline(f"<{match[1]}>", format="typst")


def reference(cite: pf.Cite, doc: pf.Doc) -> pf.RawInline:
    parts = []
    for citation in cite.citations:
        if not is_crossref(citation.id):
            raise _error(f"'@{citation.id}' mixes a citation into a cross-reference; cite it separately", citation.id, doc)
        if citation.id not in doc.labels:
            raise _error(f"unknown cross-reference label '{citation.id}'", citation.id, doc)
        bare = citation.mode == "SuppressAuthor"
        parts.append(f"#ref(<{citation.id}>{', supplement: none' if bare else ''})")
    return pf.RawInline(", ".join(parts), format="typst")


def _error(message: str, key: str, doc: pf.Doc):
    return error_at(message, rf"@{re.escape(key)}(?![\w:.\-]*[\w])", source_files(doc), regex=True)


def main(doc: pf.Doc | None = None):
    return run(action, prepare, finalize, doc)


if __name__ == "__main__":
    main()
