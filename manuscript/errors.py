"""Errors that point at the line of the source file that caused them.

Pandoc's AST carries no source positions for pandoc markdown, so a filter that finds a problem
knows *what* is wrong (an unknown key, a missing file) but not *where*; manuscript.sourcepos
finds the line of the very element. `locate`, a text search of the chapters for the offending
text, is left to the workflow's scan, which knows a referenced file but not the element.
"""
from __future__ import annotations

import re
from pathlib import Path


class SourceError(Exception):
    """A problem in an input file; str() is the one-line message the build prints."""

    def __init__(self, message: str, file: str | None = None, line: int | None = None):
        self.message, self.file, self.line = message, file, line
        super().__init__(self.oneline())

    def oneline(self) -> str:
        where = self.file or "<input>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        return f"{where}: {self.message}"


class SourceErrors(SourceError):
    """Several problems found in one pass (every unlinkable bibliography entry, say), so that
    one build names them all; str() is one `FILE:LINE: message` line per problem."""

    def __init__(self, errors: list[SourceError]):
        self.errors = list(errors)
        first = self.errors[0]
        super().__init__(first.message, first.file, first.line)

    def oneline(self) -> str:
        if not hasattr(self, "errors"):  # while SourceError.__init__ runs
            return super().oneline()
        return "\n".join(SourceError.oneline(error) for error in self.errors)


def locate(pattern: str, files: list[str], *, regex: bool = False) -> tuple[str | None, int | None]:
    """First (file, line) where `pattern` occurs in `files`, or (None, None)."""
    needle = re.compile(pattern if regex else re.escape(pattern))
    for name in files:
        try:
            lines = Path(name).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        for number, text in enumerate(lines, start=1):
            if needle.search(text):
                return name, number
    return (files[0] if len(files) == 1 else None), None


def error_at(message: str, pattern: str, files: list[str], *, regex: bool = False) -> SourceError:
    """A SourceError placed at the first occurrence of `pattern` in the chapter files."""
    file, line = locate(pattern, files, regex=regex)
    return SourceError(message, file, line)


def require_utf8(path: str, data: bytes) -> None:
    """Raise a SourceError at the line of the first byte of `data` that is not UTF-8: pandoc
    would read such a file as Latin-1 without a word."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise SourceError(f"not UTF-8: byte 0x{data[error.start]:02x} (save the file as UTF-8)",
                          path, line) from None
