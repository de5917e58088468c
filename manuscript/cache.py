"""A content-addressed cache of JSON values under ``build/cache/``, for work that is slow to redo.

An entry is one file named by a hash of everything its value depends on (its key, made by `key`
and nowhere else), so an entry is never stale: changed inputs give another name. Entries are
written through manuscript.atomic, so a reader sees a whole entry or none. Each starts with a
line naming the format and the SHA-256 of the JSON after it; an entry that does not match (cut short, edited by
hand, an older format) counts as missing and is recomputed. `sweep` removes the entries a build
did not use, so the cache holds about one build's worth.
"""
from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path

from manuscript import atomic

# Bump when the layout of entries changes; older entries then read as missing.
FORMAT = b"manuscript-cache 1"
PACKAGE = Path(__file__).resolve().parent


def digest(*parts) -> str:
    """Hex SHA-256 of `parts`: bytes as they are, anything else as canonical JSON."""
    hasher = hashlib.sha256()
    for part in parts:
        data = part if isinstance(part, bytes) else json.dumps(part, sort_keys=True).encode()
        hasher.update(len(data).to_bytes(8, "little"))
        hasher.update(data)
    return hasher.hexdigest()


def key(kind: str, *values, files=()) -> str:
    """The name of a `kind` entry, derived from everything its value is made from: this
    package's code, the pandoc and typst it runs, `values`, and the bytes of `files` (the files
    the step reads; a missing one counts as missing). Every entry of the build is named here."""
    inputs = [(name, file_digest(name)) for name in sorted({str(f) for f in files})]
    return digest(kind, code_version(), tools(), list(values), inputs)


def file_digest(path) -> str | None:
    """SHA-256 of a file's bytes, or None when it does not exist (also a fact worth keying on).
    Not remembered between calls: hashing every input of the thesis takes milliseconds."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


@lru_cache(maxsize=1)
def tools() -> list:
    """Which pandoc and typst these are (path, size, modification time of each binary): a
    parse, citeproc, the Typst writer and the fonts Typst embeds come with them."""
    from importlib.util import find_spec

    from manuscript.pandoc import pandoc_path  # late: manuscript.pandoc reads the cache

    folder = find_spec("typst").submodule_search_locations[0]  # found, not imported: 0.15 s
    binaries = [pandoc_path(), *sorted(str(p) for p in Path(folder).glob("_typst*"))]
    return [(name, os.stat(name).st_size, os.stat(name).st_mtime_ns) for name in binaries]


@lru_cache(maxsize=1)
def code_version() -> str:
    """A hash of this package's sources: editing any filter or build step invalidates the cache."""
    sources = sorted(PACKAGE.rglob("*.py"))
    return digest(*[str(p.relative_to(PACKAGE)) for p in sources],
                  *[p.read_bytes() for p in sources])


class Cache:
    """JSON values by (kind, key) in `folder`/KIND/KEY.json."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.used: set[Path] = set()

    def _path(self, kind: str, key: str) -> Path:
        return self.folder / kind / f"{key}.json"

    def get(self, kind: str, key: str):
        """The cached value, or None when it is missing or damaged."""
        path = self._path(kind, key)
        try:
            header, _, data = path.read_bytes().partition(b"\n")
        except OSError:
            return None
        if header != FORMAT + b" " + hashlib.sha256(data).hexdigest().encode():
            return None
        self.used.add(path)
        return json.loads(data)

    def remember(self, kind: str, key: str, compute):
        """The cached value, or else `compute()`, stored (as JSON: tuples come back as lists)."""
        value = self.get(kind, key)
        if value is None:
            value = compute()
            self.put(kind, key, value)
        return value

    def has(self, kind: str, key: str) -> bool:
        """Whether an entry exists (without reading it); one that does is spared from `sweep`."""
        path = self._path(kind, key)
        if path.is_file():
            self.used.add(path)
            return True
        return False

    def put(self, kind: str, key: str, value) -> None:
        """Store `value` atomically; a cache that cannot be written only makes the next build slower."""
        path = self._path(kind, key)
        try:
            # dumps, not dump: json.dump streams through the pure-Python encoder, ten times slower.
            data = json.dumps(value, separators=(",", ":")).encode()
            atomic.write(path, FORMAT + b" " + hashlib.sha256(data).hexdigest().encode() + b"\n" + data)
        except OSError:
            return
        self.used.add(path)

    def sweep(self) -> None:
        """Delete every entry (and stray temporary file) this cache object did not read or write."""
        if not self.folder.is_dir():
            return
        for path in self.folder.glob("*/*"):
            if path not in self.used:
                try:
                    path.unlink()
                except OSError:
                    pass  # another process removed it first, or it is not ours to remove
