"""Citations: every ``@key`` must name an entry of the bibliography, and every entry should be cited.

Citeproc only warns about an unknown key and prints "???" in the PDF; this filter runs before
it and stops the build at the chapter line instead. Cross-references (``@fig:x`` and friends) are
left to the crossref filter. An entry no chapter cites is reported at its line of the ``.bib``
file: a warning by default, an error with metadata ``uncited-entries: error``. Run on one part
of the thesis (see common.Part), the filter records the keys the part cites and leaves that
check to `report_uncited`, called once over all parts.
"""
from __future__ import annotations

import sys
from pathlib import Path

import panflute as pf

from manuscript.bibliography import entry_lines, read_entries
from manuscript.errors import SourceError
from manuscript.filters.common import element_error, ordinal, part_of, run, setting
from manuscript.filters.crossref import is_crossref


def prepare(doc: pf.Doc) -> None:
    bibliography = setting(doc, "bibliography", None)
    if not bibliography:
        raise SourceError("metadata has no 'bibliography' file", "metadata")
    part = part_of(doc)
    doc.bib_keys = set(read_entries(bibliography, cache=part.cache if part else None))
    doc.bib_file = bibliography
    doc.cited_keys = set()


def action(elem, doc: pf.Doc):
    if isinstance(elem, pf.Cite):
        for key in dict.fromkeys(citation.id for citation in elem.citations):
            nth = ordinal(doc, "cite", key)
            doc.cited_keys.add(key)
            if not is_crossref(key) and key not in doc.bib_keys:
                message = f"unknown citation key '{key}' (not in {doc.bib_file})"
                raise element_error(message, doc, "cite", key, nth)
    return None


def finalize(doc: pf.Doc) -> None:
    part = part_of(doc)
    if part is not None:
        part.facts["cited"] = sorted(doc.cited_keys)
    else:
        report_uncited(doc.bib_keys, doc.cited_keys, doc.bib_file, setting(doc, "uncited-entries", "warn"))
    del doc.bib_keys, doc.cited_keys


def report_uncited(bib_keys: set[str], cited_keys: set[str], bib_file: str, severity: str) -> None:
    """Warn about (or, with severity "error", stop at) the first bibliography entry no one cites."""
    uncited = bib_keys - cited_keys
    if not uncited:
        return
    lines = entry_lines(Path(bib_file))
    first = min(uncited, key=lambda key: lines.get(key, 0))
    message = (f"{len(uncited)} entr{'y is' if len(uncited) == 1 else 'ies are'} cited "
               f"nowhere, first '{first}'")
    if severity == "error":
        raise SourceError(message, bib_file, lines.get(first))
    print(f"warning: {bib_file}:{lines.get(first, 1)}: {message}", file=sys.stderr)


def main(doc: pf.Doc | None = None):
    return run(action, prepare, finalize, doc)


if __name__ == "__main__":
    main()
