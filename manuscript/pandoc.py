"""Run the pinned pandoc that ships inside pypandoc-binary, and turn its failures into SourceErrors."""
from __future__ import annotations

import io
import json
import re
import subprocess
from functools import lru_cache

import panflute as pf

from manuscript.errors import SourceError

# pandoc reports parse errors as: Error at "references.bib" (line 12, column 3): message
_PANDOC_POSITION = re.compile(r'Error at "(?P<file>[^"]+)" \(line (?P<line>\d+), column \d+\):\s*(?P<msg>.*)', re.S)


@lru_cache(maxsize=1)
def pandoc_path() -> str:
    import pypandoc  # imported late: only the build needs it, not every filter import

    return pypandoc.get_pandoc_path()


def run_pandoc(args: list[str], stdin: str | None = None) -> str:
    """Run pandoc with `args`; return stdout or raise SourceError with pandoc's own position."""
    proc = subprocess.run([pandoc_path(), *args], input=stdin, capture_output=True, text=True)
    if proc.returncode != 0:
        raise _as_source_error(proc.stderr)
    return proc.stdout


def _as_source_error(stderr: str) -> SourceError:
    match = _PANDOC_POSITION.search(stderr)
    if match:
        message = " ".join(match["msg"].split()) or "pandoc could not parse this file"
        return SourceError(message, match["file"], int(match["line"]))
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    return SourceError(lines[-1] if lines else "pandoc failed", "pandoc")


def markdown_to_blocks(text: str) -> list[pf.Block]:
    """Parse a markdown fragment into panflute blocks with the same pandoc that builds the thesis."""
    doc = pf.load(io.StringIO(run_pandoc(["-f", "markdown", "-t", "json"], stdin=text)))
    return list(doc.content)


def load_doc(args: list[str], stdin: str | None = None) -> pf.Doc:
    """Run pandoc on `args` (inputs, options) to JSON and return the panflute document."""
    return pf.load(io.StringIO(run_pandoc([*args, "-t", "json"], stdin=stdin)))


def dump_doc(doc: pf.Doc) -> str:
    buffer = io.StringIO()
    pf.dump(doc, buffer)
    return buffer.getvalue()


def read_json(args: list[str]) -> object:
    return json.loads(run_pandoc(args))
