"""Build the thesis PDF: chapters -> pandoc -> our filters -> citeproc -> Typst -> PDF.

    python -m manuscript.build --metadata metadata.yaml --output thesis.pdf chapters/*.md

Filters run in this process on one panflute document (no interpreter start per filter). The
Typst source goes to ``build/thesis.typ``; the PDF is written to a temporary file and moved into
place, so a failed build never destroys the last good thesis.pdf. Any problem in the inputs is
reported as one line, ``file:line: message``, with exit status 1.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import panflute as pf

from manuscript import fonts
from manuscript.errors import SourceError
from manuscript.filters import AFTER_CITEPROC, BEFORE_CITEPROC
from manuscript.pandoc import dump_doc, load_doc, run_pandoc

TEMPLATE = "templates/thesis.pandoc.typ"
# Symbol names pandoc's Typst writer (3.9) still emits but Typst 0.15 no longer knows.
RENAMED_SYMBOLS = {"dot.circle": "dot.o"}


def build(chapters: list[str], metadata: str, output: str, build_dir: str = "build") -> None:
    started = time.perf_counter()
    doc = read_chapters(chapters, metadata)
    for module in BEFORE_CITEPROC:
        doc = module.main(doc)
    doc = load_doc(["-f", "json", "--citeproc"], stdin=dump_doc(doc))
    for module in AFTER_CITEPROC:
        doc = module.main(doc)
    fallback = choose_fonts(doc)
    typst_source = Path(build_dir) / "thesis.typ"
    if not typst_source.resolve().is_relative_to(Path.cwd().resolve()):
        raise SourceError("the build directory must be inside the project (Typst reads figures "
                          "from its root)", build_dir)
    typst_source.parent.mkdir(parents=True, exist_ok=True)
    run_pandoc(["-f", "json", "-t", "typst", "--template", TEMPLATE, "-o", str(typst_source)], stdin=dump_doc(doc))
    typst_source.write_text(rename_symbols(typst_source.read_text(encoding="utf-8")), encoding="utf-8")
    compile_pdf(typst_source, Path(output))
    seconds = time.perf_counter() - started
    print(f"build: wrote {output} in {seconds:.1f} s (fonts: {', '.join(fallback)})", file=sys.stderr)


def rename_symbols(typst: str) -> str:
    """The Typst source with every symbol of RENAMED_SYMBOLS under its current name."""
    for old, new in RENAMED_SYMBOLS.items():
        typst = re.sub(rf"(?<![\w.]){re.escape(old)}(?![\w.])", new, typst)
    return typst


def read_chapters(chapters: list[str], metadata: str) -> pf.Doc:
    for path in [metadata, *chapters]:
        if not Path(path).is_file():
            raise SourceError("file does not exist", path)
    doc = load_doc(["-f", "markdown", "--metadata-file", metadata, *chapters])
    doc.metadata["source-files"] = pf.MetaList(*[pf.MetaString(c) for c in chapters])
    return doc


def choose_fonts(doc: pf.Doc) -> list[str]:
    """Pick fonts that cover the text's scripts; log the characters no font on this machine has."""
    preferred = doc.get_metadata("fonts", []) or []
    preferred = [preferred] if isinstance(preferred, str) else list(preferred)
    available = fonts.scan_fonts(fonts.font_dirs(Path.cwd()))
    text = pf.stringify(doc) + " ".join(_metadata_text(doc.metadata))
    fallback, missing = fonts.choose_fonts(text, available, preferred)
    if missing:
        print(fonts.report_missing(missing), file=sys.stderr)
    doc.metadata["fonts"] = pf.MetaList(*[pf.MetaString(name) for name in fallback])
    return fallback


def _metadata_text(meta) -> list[str]:
    if isinstance(meta, (pf.MetaMap,)):
        return [t for value in meta.content.values() for t in _metadata_text(value)]
    if isinstance(meta, pf.MetaList):
        return [t for value in meta.content for t in _metadata_text(value)]
    return [pf.stringify(meta)]


def compile_pdf(source: Path, output: Path) -> None:
    import typst  # late: the Typst compiler is only needed at the very end

    output.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".pdf", dir=output.parent)
    os.close(handle)
    try:
        _, warnings = typst.compile_with_warnings(
            str(source), output=temporary, root=str(Path.cwd()),
            font_paths=[str(d) for d in fonts.font_dirs(Path.cwd())])
        for warning in warnings:
            print(f"typst: warning: {warning}", file=sys.stderr)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; a PDF is meant to be shared
        os.replace(temporary, output)
    except typst.TypstError as error:
        raise SourceError(" ".join(str(error).split())[:400], str(source)) from None
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="+", help="chapter files, in reading order")
    parser.add_argument("--metadata", default="metadata.yaml")
    parser.add_argument("--output", default="thesis.pdf")
    parser.add_argument("--build-dir", default="build")
    args = parser.parse_args(argv)
    try:
        build(args.chapters, args.metadata, args.output, args.build_dir)
    except SourceError as error:
        print(f"error: {error.oneline()}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
