"""Cross-references: ``@fig:x``, ``@tbl:x``, ``@sec:x`` and ``@eq:x`` become engine-numbered links.

Labels come from ``{#fig:x}`` on images, ``{#tbl:x}`` on tables and results-table divs,
``{#sec:x}`` on headings and ``{#eq:x}`` after display maths. A reference is handed to Typst as
``#ref(<label>)``, so Typst both numbers it ("Figure 3") and links it to its target; ``-@fig:x``
gives the bare number. An unknown or duplicated label stops the build at the chapter line.
Run on one part of the thesis (see common.Part), the filter records the labels the part defines
and refers to; `check_document` then makes the same checks across all parts.
"""
from __future__ import annotations

import panflute as pf

from manuscript.ast import EQUATION_LABEL as _EQUATION_LABEL
from manuscript.filters.common import element_error, ordinal, part_of, run, walk_document
from manuscript.sourcepos import error_at_element

PREFIXES = ("fig", "tbl", "sec", "eq")
_DUPLICATE = "label '{}' is defined twice"
_UNKNOWN = "unknown cross-reference label '{}'"


def is_crossref(key: str) -> bool:
    return key.split(":", 1)[0] in PREFIXES and ":" in key


def prepare(doc: pf.Doc) -> None:
    doc.labels = set()
    doc.referenced = []
    walk_document(doc, _collect_label)


def action(elem, doc: pf.Doc):
    if isinstance(elem, pf.Para):
        _label_equations(elem)
    if isinstance(elem, pf.Cite):
        # every citation is counted, so that an error names the right one of a key's uses
        nths = {key: ordinal(doc, "cite", key) for key in dict.fromkeys(c.id for c in elem.citations)}
        if any(is_crossref(key) for key in nths):
            return reference(elem, doc, nths)
    return None


def finalize(doc: pf.Doc) -> None:
    part = part_of(doc)
    if part is not None:
        part.facts["labels"] = sorted(doc.labels)
        part.facts["references"] = doc.referenced
    del doc.labels, doc.referenced


def check_document(parts: list[tuple[list[str], str, dict]]) -> None:
    """The checks of a whole-document run, over the facts each part recorded: no label defined
    twice, no reference to a label no part defines. A part is (its files, its region, its facts)
    as common.Part has them; a part defines a label once (it checked that itself), so an error
    is at the part's first definition or reference."""
    defined = set()
    for files, region, facts in parts:
        for label in facts["labels"]:
            if label in defined:
                raise error_at_element(_DUPLICATE.format(label), files, "label", label, 1, region)
            defined.add(label)
    for files, region, facts in parts:
        for key in facts["references"]:
            if key not in defined:
                raise error_at_element(_UNKNOWN.format(key), files, "cite", key, 1, region)


def _collect_label(elem, doc: pf.Doc) -> None:
    label = getattr(elem, "identifier", "") or ""
    if isinstance(elem, pf.Str):
        match = _EQUATION_LABEL.match(elem.text)
        label = match[1] if match else ""
    if not is_crossref(label):
        return
    nth = ordinal(doc, "label", label)
    if label in doc.labels:
        raise element_error(_DUPLICATE.format(label), doc, "label", label, nth)
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


def reference(cite: pf.Cite, doc: pf.Doc, nths: dict[str, int]) -> pf.RawInline:
    """The Typst references of `cite`, the how-many-th use of each of its keys `nths` says."""
    parts = []
    for citation in cite.citations:
        if not is_crossref(citation.id):
            message = f"'@{citation.id}' mixes a citation into a cross-reference; cite it separately"
            raise element_error(message, doc, "cite", citation.id, nths[citation.id])
        if citation.id not in doc.referenced:
            doc.referenced.append(citation.id)
        if citation.id not in doc.labels and part_of(doc) is None:
            raise element_error(_UNKNOWN.format(citation.id), doc, "cite", citation.id, nths[citation.id])
        bare = citation.mode == "SuppressAuthor"
        parts.append(f"#ref(<{citation.id}>{', supplement: none' if bare else ''})")
    return pf.RawInline(", ".join(parts), format="typst")


def main(doc: pf.Doc | None = None):
    return run(action, prepare, finalize, doc)


if __name__ == "__main__":
    main()
