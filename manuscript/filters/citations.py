"""Citations: every ``@key`` must name an entry of the bibliography, and every entry should be cited.

Citeproc only warns about an unknown key and prints "???" in the PDF; this filter runs before
it and stops the build at the chapter line instead. Cross-references (``@fig:x`` and friends) are
left to the crossref filter. An entry no chapter cites is reported at its line of the ``.bib``
file: a warning by default, an error with metadata ``uncited-entries: error``.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import panflute as pf

from manuscript.bibliography import entry_lines, read_entries
from manuscript.errors import SourceError, error_at
from manuscript.filters.common import run, setting, source_files
from manuscript.filters.crossref import is_crossref


def prepare(doc: pf.Doc) -> None:
    bibliography = setting(doc, "bibliography", None)
    if not bibliography:
        raise SourceError("metadata has no 'bibliography' file", "metadata")
    doc.bib_keys = set(read_entries(bibliography))
    doc.bib_file = bibliography
    doc.cited_keys = set()


def action(elem, doc: pf.Doc):
    if isinstance(elem, pf.Cite):
        for citation in elem.citations:
            doc.cited_keys.add(citation.id)
            if not is_crossref(citation.id) and citation.id not in doc.bib_keys:
                pattern = rf"@{re.escape(citation.id)}(?![\w:.\-]*[\w])"
                message = f"unknown citation key '{citation.id}' (not in {doc.bib_file})"
                raise error_at(message, pattern, source_files(doc), regex=True)
    return None


def finalize(doc: pf.Doc) -> None:
    uncited = doc.bib_keys - doc.cited_keys
    if uncited:
        lines = entry_lines(Path(doc.bib_file))
        first = min(uncited, key=lambda key: lines.get(key, 0))
        message = (f"{len(uncited)} entr{'y is' if len(uncited) == 1 else 'ies are'} cited "
                   f"nowhere, first '{first}'")
        if setting(doc, "uncited-entries", "warn") == "error":
            raise SourceError(message, doc.bib_file, lines.get(first))
        print(f"warning: {doc.bib_file}:{lines.get(first, 1)}: {message}", file=sys.stderr)
    del doc.bib_keys, doc.cited_keys


def main(doc: pf.Doc | None = None):
    return run(action, prepare, finalize, doc)


if __name__ == "__main__":
    main()
