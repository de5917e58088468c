"""Bibliography links: citations link to their entries, and entries link into the library.

Runs after citeproc. A citation is replaced by the text citeproc rendered for it (already a
link to ``#ref-KEY`` with `link-citations`); left as a Cite, pandoc's Typst writer would emit a
Typst-native ``@key`` that Typst cannot resolve. Citeproc leaves one ``Div #ref-KEY`` per entry. The entry's text (without its
``[n]`` label) is wrapped in a link built from metadata `library-links` (patterns with
``{arxiv}``, ``{doi}`` and ``{url}``). An entry with no arXiv id, DOI or url cannot be linked:
every such entry is named at its line of the .bib file, all in one build, and the build stops
(metadata ``unlinkable-entries: warn`` only warns). ``library-links: false`` links no entry.
"""
from __future__ import annotations

from pathlib import Path

import panflute as pf

from manuscript.bibliography import LinkPatterns, entry_lines, library_link, read_entries
from manuscript.errors import SourceError, SourceErrors
from manuscript.filters.common import part_of, run, setting


def prepare(doc: pf.Doc) -> None:
    doc.bib_file = setting(doc, "bibliography", "references.bib")
    part = part_of(doc)
    doc.bib_entries = read_entries(doc.bib_file, cache=part.cache if part else None)
    doc.unlinkable = []
    # numeric labels get a box as wide as the widest: [1] ... [77] -> two digits
    shown = [len(block.content) for block in doc.content if isinstance(block, pf.Div) and block.identifier == "refs"]
    doc.label_digits = len(str(max(shown or [len(doc.bib_entries)])))
    patterns = setting(doc, "library-links", {})
    if patterns is False or patterns == "false":
        doc.link_patterns = None
        return
    missing = {"arxiv", "doi", "url"} - set(patterns)
    if missing:
        raise SourceError(f"metadata 'library-links' lacks {', '.join(sorted(missing))}", "metadata")
    doc.link_patterns = LinkPatterns(**{k: patterns[k] for k in ("arxiv", "doi", "url")})


def action(elem, doc: pf.Doc):
    if isinstance(elem, pf.Cite):
        return pf.Span(*elem.content, classes=["citation"])
    if isinstance(elem, pf.Div) and elem.identifier.startswith("ref-"):
        if doc.link_patterns:
            link_entry(elem, doc)
        else:
            _lay_out(elem, None, doc)
    return None


def finalize(doc: pf.Doc) -> None:
    unlinkable = doc.unlinkable
    del doc.bib_entries, doc.unlinkable, doc.label_digits
    if not unlinkable:
        return
    lines = entry_lines(Path(doc.bib_file))
    errors = [SourceError(f"entry '{key}' has no arXiv eprint, doi or url to link to the library",
                          doc.bib_file, lines.get(key)) for key in sorted(unlinkable, key=lambda k: lines.get(k, 0))]
    if setting(doc, "unlinkable-entries", "error") == "warn":
        # kept with the part's result, so a rebuild from the cache still reports them
        doc.warnings = [f"warning: {error.oneline()}" for error in errors]
    else:
        raise SourceErrors(errors)


def link_entry(div: pf.Div, doc: pf.Doc) -> None:
    key = div.identifier[len("ref-"):]
    url = library_link(doc.bib_entries.get(key, {}), doc.link_patterns)
    if url is None:
        doc.unlinkable.append(key)  # reported in finalize; laid out like the others meanwhile
    _lay_out(div, url, doc)


def _lay_out(div: pf.Div, url: str | None, doc: pf.Doc) -> None:
    for block in div.content:
        if isinstance(block, (pf.Para, pf.Plain)):
            _wrap_text(block, url, doc.label_digits)


def _wrap_text(block, url: str | None, digits: int) -> None:
    """Wrap the entry text in one link (none without `url`); a numeric label stays outside it,
    laid out by the template's `numbered-entry` as wide as a `digits`-digit label."""
    items = list(block.content)
    label = [items.pop(0)] if items and "csl-left-margin" in getattr(items[0], "classes", []) else []
    text = pf.Span(*items, classes=["csl-entry-text"])
    # without a library link of its own, a URL or DOI the entry prints stays clickable
    link = pf.Link(text.walk(_unlink), url=url) if url else text
    if not label:
        block.content = [link]
        return
    block.content = [pf.RawInline(f"#numbered-entry(digits: {digits})[", format="typst"), *label,
                     pf.RawInline("][", format="typst"), link, pf.RawInline("]", format="typst")]


def _unlink(elem, doc):
    """A link printed inside the entry (a URL, a DOI) would nest inside ours: keep its text."""
    if isinstance(elem, pf.Link):
        return pf.Span(*elem.content)
    return None


def main(doc: pf.Doc | None = None):
    return run(action, prepare, finalize, doc)


if __name__ == "__main__":
    main()
