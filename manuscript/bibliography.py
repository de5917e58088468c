"""The bibliography as data: entries from references.bib and the library link each one gets.

A link is chosen in this order: an arXiv identifier (from `eprint`, with or without
`archivePrefix`, an arxiv.org URL, an arXiv DOI, or "arXiv:ID" in the journal field that Google
Scholar exports write), then a DOI, then the entry's url. Each goes through a pattern from
document metadata (`library-links`), so another university's proxy is a metadata change. Real
.bib files write DOIs as URLs or with `doi:` and urls with stray spaces, so both are normalised
and percent-encoded before they go into a pattern.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from manuscript.cache import key as cache_key
from manuscript.errors import SourceError
from manuscript.pandoc import read_json

_ENTRY_START = re.compile(r"^[ \t]*@(?P<type>\w+)\s*\{\s*(?P<key>[^,\s]+)\s*,", re.M)
_ARXIV_URL = re.compile(r"arxiv\.org/(?:abs|pdf)/(?P<id>[^?#\s]+?)(?:v\d+)?(?:\.pdf)?$", re.I)
_ARXIV_DOI = re.compile(r"^10\.48550/arxiv\.(?P<id>.+)$", re.I)
# New-style (1803.03635) and old-style (hep-th/9901001, math.GT/0309136) identifiers.
_ARXIV_ID = r"(?P<id>\d{4}\.\d{4,5}|[a-z][a-z-]*(?:\.[A-Za-z]{2})?/\d{7})(?:v\d+)?"
_ARXIV_EPRINT = re.compile(rf"^\s*(?:arxiv:\s*)?{_ARXIV_ID}\s*$", re.I)
_ARXIV_IN_TEXT = re.compile(rf"\barxiv:\s*{_ARXIV_ID}", re.I)
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.I)
_EPRINT_FIELD = re.compile(r"\beprint\s*=\s*(?:\{\s*([^{}]*?)\s*\}|\"\s*([^\"]*?)\s*\")", re.I)
_EPRINTTYPE_FIELD = re.compile(r"\b(?:archiveprefix|eprinttype)\s*=\s*[{\"]\s*([^{}\"]*?)\s*[}\"]", re.I)
# Characters a URL may carry as they are (RFC 3986 reserved and unreserved, and "%" of escapes).
_URL_SAFE = ":/?#[]@!$&'()*+,;=-._~%"


@dataclass(frozen=True)
class LinkPatterns:
    arxiv: str
    doi: str
    url: str


def read_entries(path: str | Path, cache=None) -> dict[str, dict]:
    """CSL-JSON entries by key; a syntax error or a duplicate key names the file and line.
    With a manuscript.cache.Cache, pandoc parses each version of the file once."""
    path = Path(path)
    if not path.is_file():
        raise SourceError("bibliography file does not exist", str(path))
    key = cache_key("bibliography", files=[path])
    entries = cache.get("bibliography", key) if cache else None
    if entries is None:
        entries = _parse_entries(path)
        if cache:
            cache.put("bibliography", key, entries)
    return entries


def _parse_entries(path: Path) -> dict[str, dict]:
    """Parse with pandoc; errors name the file as the chapter metadata gives it."""
    entry_lines(path)  # duplicate keys: pandoc would silently keep one of them
    try:
        entries = read_json([str(path), "-f", "bibtex", "-t", "csljson"])
    except SourceError as error:
        raise _explain(error, path) from None
    entries = {entry["id"]: entry for entry in entries}
    # pandoc keeps `eprint` only with an arXiv archivePrefix/eprinttype; many files leave it out
    for key, eprint in raw_eprints(path.read_text(encoding="utf-8")).items():
        if key in entries:
            entries[key]["eprint"] = eprint
    return entries


def raw_eprints(text: str) -> dict[str, str]:
    """The `eprint` of each entry whose archive is arXiv or not given, as written in the file."""
    starts = list(_ENTRY_START.finditer(text))
    found = {}
    for match, end in zip(starts, [m.start() for m in starts[1:]] + [len(text)]):
        body = text[match.end():end]
        field = _EPRINT_FIELD.search(body)
        archive = _EPRINTTYPE_FIELD.search(body)
        if field and (archive is None or archive[1].lower() == "arxiv"):
            found[match["key"]] = field[1] if field[1] is not None else field[2]
    return found


def entry_lines(path: Path) -> dict[str, int]:
    """Line of each entry's `@type{key,`; a key defined twice is an error at its second line."""
    text = path.read_text(encoding="utf-8")
    lines: dict[str, int] = {}
    for match in _ENTRY_START.finditer(text):
        if match["type"].lower() in {"comment", "preamble", "string"}:
            continue
        line = text.count("\n", 0, match.start()) + 1
        if match["key"] in lines:
            raise SourceError(f"duplicate key '{match['key']}' (first at line {lines[match['key']]})", str(path), line)
        lines[match["key"]] = line
    return lines


def _explain(error: SourceError, path: Path) -> SourceError:
    """Pandoc reports an unclosed brace at the end of the file; point at the entry instead."""
    if "end of input" not in error.message:
        return error
    line = _unclosed_entry_line(path.read_text(encoding="utf-8"))
    return SourceError("entry is not closed (unbalanced braces)", str(path), line or error.line)


def _unclosed_entry_line(text: str) -> int | None:
    starts = [m.start() for m in _ENTRY_START.finditer(text)] + [len(text)]
    for start, end in zip(starts, starts[1:]):
        if text.count("{", start, end) != text.count("}", start, end):
            return text.count("\n", 0, start) + 1
    return None


def arxiv_id(entry: dict) -> str | None:
    """The arXiv identifier of a CSL entry (with `eprint` as read_entries adds it), or None."""
    match = (_ARXIV_EPRINT.match(entry.get("eprint", "")) or _ARXIV_URL.search(entry.get("URL", ""))
             or _ARXIV_DOI.match(normal_doi(entry.get("DOI", "")) or "")
             or _ARXIV_IN_TEXT.search(entry.get("container-title", "")))
    return match["id"] if match else None


def normal_doi(raw: str) -> str | None:
    """`10.1000/xyz` from the forms files hold: a doi.org URL, a `doi:` prefix, spaces."""
    doi = _DOI_PREFIX.sub("", raw.strip()).strip()
    return doi if doi.startswith("10.") else None


def normal_url(raw: str) -> str | None:
    """The url trimmed, inner spaces and non-ASCII percent-encoded, existing escapes kept."""
    url = raw.strip()
    return quote(url, safe=_URL_SAFE) if url else None


def library_link(entry: dict, patterns: LinkPatterns) -> str | None:
    """The library URL for one CSL entry, or None when it has no arXiv id, DOI or url."""
    if identifier := arxiv_id(entry):
        return patterns.arxiv.replace("{arxiv}", identifier)
    if doi := normal_doi(entry.get("DOI", "")):
        return patterns.doi.replace("{doi}", quote(doi, safe="/:;()._-"))
    if url := normal_url(entry.get("URL", "")):
        return patterns.url.replace("{url}", url)
    return None
