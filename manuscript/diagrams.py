"""Compile one hand-made diagram (a Typst drawing under ``diagrams/``) to a vector PDF.

    python -m manuscript.diagrams diagrams/imp_loop.typ figures/imp_loop.pdf

The ``diagram`` rule calls this once per figure. The PDF goes to a temporary file beside the
output and is moved into place, so a failed compile leaves the previous figure (or nothing)
rather than half a file. Typst is given the same font folders as the thesis build, and a fixed
timestamp, so that a drawing which forgets ``set document(date: none)`` (the shared style sets it)
still compiles to the same bytes every time. A Typst error is reported as one line,
``diagrams/NAME.typ:LINE: message`` (the file being the one where the error lies, which may be
the shared ``diagrams/style.typ``), with exit status 1; Typst's warnings go to stderr.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from manuscript import atomic, fonts
from manuscript.errors import SourceError

# Seconds since 1970: only seen by a drawing that asks for today's date or leaves the document
# date on auto; pinned so that the output never depends on when it was compiled.
FIXED_TIMESTAMP = 0

# First source location in a Typst diagnostic, e.g. "  ┌─ diagrams/imp_loop.typ:12:5".
_LOCATION = re.compile(r"┌─\s+(?P<file>.+?):(?P<line>\d+):\d+")


def compile_diagram(source: Path, output: Path) -> list[str]:
    """Write the PDF of `source` to `output` atomically; return Typst's warnings."""
    import typst  # late: importing the compiler is the slow part of a --help

    if not source.is_file():
        raise SourceError("diagram source does not exist", str(source))
    try:
        with atomic.replacing(output) as temporary:
            _, warnings = typst.compile_with_warnings(
                str(source), output=temporary, format="pdf", root=str(_root(source)),
                font_paths=[str(d) for d in fonts.font_dirs(Path.cwd())], timestamp=FIXED_TIMESTAMP)
    except typst.TypstError as error:
        raise _located(error, source) from None
    return [" ".join(str(warning).split()) for warning in warnings]


def _root(source: Path) -> Path:
    """The project root when the drawing lies inside it (as the thesis build uses), else the
    drawing's own folder: a diagram may read files beside it, never outside the root."""
    here, folder = Path.cwd().resolve(), source.resolve().parent
    return here if folder.is_relative_to(here) else folder


def _located(error, source: Path) -> SourceError:
    """A SourceError at the first file:line Typst names (paths as Typst prints them, relative
    to the working directory), or at the source itself when Typst names none."""
    message = " ".join(str(getattr(error, "message", error)).split())[:400]
    match = _LOCATION.search(str(getattr(error, "diagnostic", "") or ""))
    if match is None:
        return SourceError(message, str(source))
    return SourceError(message, match["file"], int(match["line"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="the diagram's Typst source, diagrams/NAME.typ")
    parser.add_argument("output", type=Path, help="the PDF to write, figures/NAME.pdf")
    args = parser.parse_args(argv)
    try:
        warnings = compile_diagram(args.source, args.output)
    except SourceError as error:
        print(f"error: {error.oneline()}", file=sys.stderr)
        return 1
    for warning in warnings:
        print(f"typst: warning: {args.source}: {warning}", file=sys.stderr)
    print(f"diagrams: wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
