"""What every filter shares: how it runs (in-process or as a pandoc filter), its walk, its metadata,
and the per-part mode in which the build runs it on one chapter at a time."""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Callable

import panflute as pf

from manuscript.errors import SourceError

# panflute 2.3 predates pandoc's Typst writer and refuses raw blocks in a format it does not
# list; the filters hand Typst its labels and references as raw Typst, so register the format.
pf.elements.RAW_FORMATS.add("typst")


@dataclass
class Part:
    """Marks a Doc as one part (a chapter, the title matter, an appendix) of a larger document.

    manuscript.build filters each part on its own so that an edited chapter is filtered alone.
    A filter then records what the document-wide checks need in `facts` (labels, cited keys,
    the results shown) instead of making them: the build makes them once over all parts. The
    part's metadata carries the settings; it is walked only in the part that holds the title
    matter (`walk_metadata`), as a whole-document walk visits it once.
    """
    walk_metadata: bool = False
    cache: object = None  # a manuscript.cache.Cache the filters may keep slow lookups in
    facts: dict = field(default_factory=dict)
    # Where the part's text comes from, for errors: its chapter, or the chapters whose abstract
    # sections make up the title matter (region "abstract"); none for a generated part.
    files: list = field(default_factory=list)
    region: str = "body"


def part_of(doc: pf.Doc) -> Part | None:
    """The Part `doc` is, or None when it is a whole document (the filter then checks everything)."""
    return getattr(doc, "part", None)


def run(action: Callable, prepare: Callable, finalize: Callable, doc: pf.Doc | None) -> pf.Doc | None:
    """Run a filter; as a standalone pandoc filter a SourceError becomes one line and exit 1."""
    if doc is not None:
        return _apply(action, prepare, finalize, doc)
    try:
        doc = _apply(action, prepare, finalize, pf.load())
        for warning in getattr(doc, "warnings", []):
            print(warning, file=sys.stderr)
        pf.dump(doc)
    except SourceError as error:
        print(error.oneline(), file=sys.stderr)
        sys.exit(1)
    return None


def _apply(action, prepare, finalize, doc: pf.Doc) -> pf.Doc:
    doc.ordinals = {}  # see `ordinal`: each filter counts afresh
    prepare(doc)
    walk_document(doc, action)
    finalize(doc)
    del doc.ordinals
    return doc


def ordinal(doc: pf.Doc, kind: str, key: str) -> int:
    """Count an element the filter meets: the how-many-th of its kind (a manuscript.sourcepos
    kind) and key it is in the part, 1 for the first. Counted as the walk goes, since a filter
    replaces the elements it has done (a result becomes its number)."""
    count = doc.ordinals.get((kind, key), 0) + 1
    doc.ordinals[kind, key] = count
    return count


def element_error(message: str, doc: pf.Doc, kind: str, key: str, nth: int = 1) -> SourceError:
    """A SourceError at the line of the part's `nth` element of `kind` and `key`."""
    return SourceError(message, *element_place(doc, kind, key, nth))


def element_place(doc: pf.Doc, kind: str, key: str, nth: int = 1) -> tuple[str | None, int | None]:
    """(file, line) of the part's `nth` element of `kind` and `key` (manuscript.sourcepos)."""
    from manuscript.sourcepos import find_line  # late: only errors need it

    part = part_of(doc)
    files = part.files if part is not None else source_files(doc)
    return find_line(files, kind, key, nth, part.region if part else "body")


def walk_document(doc: pf.Doc, action: Callable) -> None:
    """Walk the metadata (unless `doc` is a part that does not own it), then the body."""
    part = part_of(doc)
    if part is None or part.walk_metadata:
        walk(doc.metadata, action, doc)
    _walk_list(doc.content, action, doc)


def walk(element, action: Callable, doc: pf.Doc):
    """panflute's Element.walk, changing only what `action` replaces.

    Same order (children before their parent, in document order) and the same meaning of the
    action's result: None keeps the element, an element replaces it, a list is spliced in.
    panflute rebuilds every container on the way back up, which made each filter's walk cost
    about as much as pandoc's parse; here untouched containers are left as they are.
    """
    for name in element._children:
        child = getattr(element, name)
        if isinstance(child, pf.ListContainer):
            _walk_list(child, action, doc)
        elif isinstance(child, pf.DictContainer):
            _walk_dict(child, action, doc)
        elif isinstance(child, pf.Element):
            replaced = walk(child, action, doc)
            if replaced is not child:
                setattr(element, name, replaced)
    altered = action(element, doc)
    return element if altered is None else altered


def _walk_list(container: pf.ListContainer, action: Callable, doc: pf.Doc) -> None:
    items, parent, location = container.list, container.parent, container.location
    index = 0
    while index < len(items):
        item = items[index]
        # What indexing the container would do (panflute's walk relies on it): link the item
        # to its parent. Done here directly, as this loop is the build's hottest.
        item.parent, item.location, item.index = parent, location, index
        replaced = walk(item, action, doc)
        if replaced is item:
            index += 1
            continue
        spliced = replaced if isinstance(replaced, list) else [replaced]
        container[index:index + 1] = spliced
        index += len(spliced)


def _walk_dict(container: pf.DictContainer, action: Callable, doc: pf.Doc) -> None:
    for key in list(container):
        value = container[key]
        if not isinstance(value, pf.Element):
            continue
        replaced = walk(value, action, doc)
        if isinstance(replaced, list) and not replaced:
            del container[key]
        elif replaced is not value:
            container[key] = replaced


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
