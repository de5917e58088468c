"""Run the pinned pandoc that ships inside pypandoc-binary, and turn its failures into SourceErrors."""
from __future__ import annotations

import io
import json
import os
import re
import subprocess
import tempfile
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path

from manuscript.errors import SourceError, require_utf8

# pandoc reports parse errors as: Error at "references.bib" (line 12, column 3): message
_PANDOC_POSITION = re.compile(r'Error at "(?P<file>[^"]+)" \(line (?P<line>\d+), column \d+\):\s*(?P<msg>.*)', re.S)


@lru_cache(maxsize=1)
def pandoc_path() -> str:
    """The binary pypandoc-binary bundles. Found by path: pypandoc.get_pandoc_path() runs every
    pandoc it can find to pick the newest (0.1 s at each Snakemake start and build), and would
    pick a newer system pandoc over the pinned one."""
    folder = Path(find_spec("pypandoc").submodule_search_locations[0]) / "files"
    bundled = [folder / name for name in ("pandoc", "pandoc.exe") if (folder / name).is_file()]
    if bundled:
        return str(bundled[0])
    import pypandoc  # pypandoc without its binary: whatever pandoc it finds

    return pypandoc.get_pandoc_path()


class UnconvertibleMath(SourceError):
    """TeX math pandoc's Typst writer could not convert (it would print the TeX as text); the
    writer does not know the chapter, so the build places the error (manuscript.build)."""

    def __init__(self, tex: str, reason: str):
        self.tex = tex
        super().__init__(f"TeX math pandoc cannot convert to Typst: ${' '.join(tex.split())}$ ({reason})")


def run_pandoc(args: list[str], stdin: str | None = None, *, lenient: bool = False) -> str:
    """Run pandoc with `args`; return stdout or raise SourceError with pandoc's own position.

    Some of pandoc's warnings mean a wrong PDF (an unclosed div swallows the rest of the chapter,
    unconvertible maths is printed as TeX source), so they are errors too, unless `lenient`.
    Pandoc never reads the terminal: its input is `stdin` or nothing."""
    with tempfile.TemporaryDirectory(prefix="pandoc-log-") as folder:
        log = os.path.join(folder, "log.json")
        # Empty input when there is none: pandoc reads the files in `args`, never the terminal.
        proc = subprocess.run([pandoc_path(), f"--log={log}", *args], capture_output=True, text=True,
                              input=stdin if stdin is not None else "")
        if proc.returncode != 0:
            raise _as_source_error(proc.stderr)
        if not lenient:
            _raise_on_fatal_warnings(_read_log(log))
    return proc.stdout


def _read_log(log: str) -> list[dict]:
    try:
        with open(log, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):  # no log is no warning
        return []


def _raise_on_fatal_warnings(messages: list[dict]) -> None:
    for message in messages:
        if message.get("type") == "UnclosedDiv":
            opened = message.get("openpos", {})
            raise SourceError("fenced div (:::) is never closed; close it with a line ':::'",
                              opened.get("source") or None, opened.get("line"))
        if message.get("type") == "CouldNotConvertTeXMath":
            raise UnconvertibleMath(message.get("contents", ""), _math_reason(message.get("message", "")))


def _math_reason(text: str) -> str:
    """The parser's complaint, the line after its caret (the lines before repeat the TeX)."""
    lines = text.splitlines()
    carets = [index for index, line in enumerate(lines) if line.strip() == "^"]
    rest = lines[carets[0] + 1:] if carets else lines[-1:]
    return rest[0].strip() if rest else "not understood"


def _as_source_error(stderr: str) -> SourceError:
    match = _PANDOC_POSITION.search(stderr)
    if match:
        message = " ".join(match["msg"].split()) or "pandoc could not parse this file"
        return SourceError(message, match["file"], int(match["line"]))
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    return SourceError(lines[-1] if lines else "pandoc failed", "pandoc")


def read_markdown(path: str, cache=None) -> dict:
    """A chapter as pandoc's JSON AST, read once per version of its bytes when given a Cache.

    The workflow's scan and the build both need it; with a cache the build reuses the scan's.
    """
    key = markdown_key(path)
    ast = cache.get("ast", key) if cache else None
    if ast is None:
        require_utf8(path, Path(path).read_bytes())
        ast = json.loads(run_pandoc(["-f", "markdown", "-t", "json", path]))
        if cache:
            cache.put("ast", key, ast)
    return ast


def markdown_key(path: str) -> str:
    """The cache key of a chapter's parse: its bytes, this package's code and the tools."""
    from manuscript import cache  # late: manuscript.cache names the pandoc it keys on

    return cache.key("markdown", files=[path])


# panflute is imported inside the helpers below: the workflow's scan walks plain JSON and need
# not pay for it at every Snakemake start.

def markdown_to_blocks(text: str) -> list:
    """Parse a markdown fragment into panflute blocks with the same pandoc that builds the thesis."""
    import panflute as pf

    doc = pf.load(io.StringIO(run_pandoc(["-f", "markdown", "-t", "json"], stdin=text)))
    return list(doc.content)


def load_doc(args: list[str], stdin: str | None = None):
    """Run pandoc on `args` (inputs, options) to JSON and return the panflute document."""
    import panflute as pf

    return pf.load(io.StringIO(run_pandoc([*args, "-t", "json"], stdin=stdin)))


def dump_doc(doc) -> str:
    import panflute as pf

    buffer = io.StringIO()
    pf.dump(doc, buffer)
    return buffer.getvalue()


def read_json(args: list[str]) -> object:
    return json.loads(run_pandoc(args))
