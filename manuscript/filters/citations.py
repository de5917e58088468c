"""Citations: every ``@key`` must name an entry of the bibliography.

Citeproc only warns about an unknown key and prints "???" in the PDF; this filter runs before
it and stops the build at the chapter line instead. Cross-references (``@fig:x`` and friends) are
left to the crossref filter.
"""
from __future__ import annotations

import re

import panflute as pf

from manuscript.bibliography import read_entries
from manuscript.errors import SourceError, error_at
from manuscript.filters.common import run, setting, source_files
from manuscript.filters.crossref import is_crossref


def prepare(doc: pf.Doc) -> None:
    bibliography = setting(doc, "bibliography", None)
    if not bibliography:
        raise SourceError("metadata has no 'bibliography' file", "metadata")
    doc.bib_keys = set(read_entries(bibliography))
    doc.bib_file = bibliography


def action(elem, doc: pf.Doc):
    if isinstance(elem, pf.Cite):
        for citation in elem.citations:
            if not is_crossref(citation.id) and citation.id not in doc.bib_keys:
                pattern = rf"@{re.escape(citation.id)}(?![\w:.\-]*[\w])"
                message = f"unknown citation key '{citation.id}' (not in {doc.bib_file})"
                raise error_at(message, pattern, source_files(doc), regex=True)
    return None


def finalize(doc: pf.Doc) -> None:
    del doc.bib_keys


def main(doc: pf.Doc | None = None):
    return run(action, prepare, finalize, doc)


if __name__ == "__main__":
    main()
