"""What every filter shares: how it runs (in-process or as a pandoc filter) and its metadata."""
from __future__ import annotations

import sys
from typing import Callable

import panflute as pf

from manuscript.errors import SourceError

# panflute 2.3 predates pandoc's Typst writer and refuses raw blocks in a format it does not
# list; the filters hand Typst its labels and references as raw Typst, so register the format.
pf.elements.RAW_FORMATS.add("typst")


def run(action: Callable, prepare: Callable, finalize: Callable, doc: pf.Doc | None) -> pf.Doc | None:
    """Run a filter; as a standalone pandoc filter a SourceError becomes one line and exit 1."""
    if doc is not None:
        return pf.run_filter(action, prepare=prepare, finalize=finalize, doc=doc)
    try:
        return pf.run_filter(action, prepare=prepare, finalize=finalize)
    except SourceError as error:
        print(error.oneline(), file=sys.stderr)
        sys.exit(1)


def source_files(doc: pf.Doc) -> list[str]:
    """The chapter files the build read, in order (set by manuscript.build as `source-files`)."""
    files = doc.get_metadata("source-files", [])
    return [files] if isinstance(files, str) else list(files)


def setting(doc: pf.Doc, key: str, default):
    """A filter option from document metadata, e.g. `results-root`."""
    value = doc.get_metadata(key, default)
    return default if value is None else value


def stringify(element) -> str:
    return pf.stringify(element).strip()
