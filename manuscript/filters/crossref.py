"""Cross-references: ``@fig:x``, ``@tbl:x``, ``@sec:x`` and ``@eq:x`` become engine-numbered links.

Labels come from ``{#fig:x}`` on images, ``{#tbl:x}`` on tables and results-table divs,
``{#sec:x}`` on headings and ``{#eq:x}`` after display maths. A reference is handed to Typst as
``#ref(<label>)``, so Typst both numbers it ("Figure 3") and links it to its target; ``-@fig:x``
gives the bare number. An unknown or duplicated label stops the build at the chapter line.
Run on one part of the thesis (see common.Part), the filter records the labels the part defines
and refers to; `check_document` then makes the same checks across all parts.
"""
from __future__ import annotations

import re

import panflute as pf

from manuscript.errors import error_at
from manuscript.filters.common import part_of, run, source_files, walk_document

PREFIXES = ("fig", "tbl", "sec", "eq")
_EQUATION_LABEL = re.compile(r"^\{#(eq:[\w:.\-]+)\}$")


def is_crossref(key: str) -> bool:
    return key.split(":", 1)[0] in PREFIXES and ":" in key


def prepare(doc: pf.Doc) -> None:
    doc.labels = set()
    doc.referenced = []
    walk_document(doc, _collect_label)


def action(elem, doc: pf.Doc):
    if isinstance(elem, pf.Para):
        _label_equations(elem)
    if isinstance(elem, pf.Cite) and any(is_crossref(c.id) for c in elem.citations):
        return reference(elem, doc)
    return None


def finalize(doc: pf.Doc) -> None:
    part = part_of(doc)
    if part is not None:
        part.facts["labels"] = sorted(doc.labels)
        part.facts["references"] = doc.referenced
    del doc.labels, doc.referenced


def check_document(labels_by_part: list[list[str]], references: list[str], files: list[str]) -> None:
    """The checks of a whole-document run, over the facts each part recorded: no label defined
    twice, no reference to a label no part defines."""
    defined = set()
    for labels in labels_by_part:
        for label in labels:
            if label in defined:
                raise _duplicate(label, files)
            defined.add(label)
    for key in references:
        if key not in defined:
            raise _unknown(key, files)


def _collect_label(elem, doc: pf.Doc) -> None:
    label = getattr(elem, "identifier", "") or ""
    if isinstance(elem, pf.Str):
        match = _EQUATION_LABEL.match(elem.text)
        label = match[1] if match else ""
    if not is_crossref(label):
        return
    if label in doc.labels:
        raise _duplicate(label, source_files(doc))
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
        if citation.id not in doc.referenced:
            doc.referenced.append(citation.id)
        if citation.id not in doc.labels and part_of(doc) is None:
            raise _unknown(citation.id, source_files(doc))
        bare = citation.mode == "SuppressAuthor"
        parts.append(f"#ref(<{citation.id}>{', supplement: none' if bare else ''})")
    return pf.RawInline(", ".join(parts), format="typst")


def _error(message: str, key: str, doc: pf.Doc):
    return _at_reference(message, key, source_files(doc))


def _at_reference(message: str, key: str, files: list[str]):
    return error_at(message, rf"@{re.escape(key)}(?![\w:.\-]*[\w])", files, regex=True)


def _unknown(key: str, files: list[str]):
    return _at_reference(f"unknown cross-reference label '{key}'", key, files)


def _duplicate(label: str, files: list[str]):
    return error_at(f"label '{label}' is defined twice", "{#" + label + "}", files)


def main(doc: pf.Doc | None = None):
    return run(action, prepare, finalize, doc)


if __name__ == "__main__":
    main()
