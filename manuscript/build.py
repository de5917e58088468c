"""Build the thesis PDF: chapters -> pandoc -> our filters -> citeproc -> Typst -> PDF.

    python -m manuscript.build --metadata metadata.yaml --output thesis.pdf chapters/*.md

The thesis is built in parts (manuscript.parts): the title matter, each chapter, the provenance
appendix. Each part is filtered, cited and written as Typst on its own, and every step's result
is kept under ``build/cache/`` keyed by all it depends on, so after an edit only the edited
chapter goes through pandoc and the filters again (manuscript.typeset explains how citations
stay numbered across parts). Without a cache everything is computed; the Typst source is the
same either way. It goes to ``build/thesis.typ``, and the PDF is compiled once from it.
Both are written to temporary files and moved into place, so a failed build never destroys the
last good thesis.pdf. Any problem in the inputs is reported as one line, ``file:line:
message``, with exit status 1.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from manuscript import ast, atomic, located, parts, typeset, typst_server, writer
from manuscript.bibliography import read_entries
from manuscript.cache import Cache, digest
from manuscript.errors import SourceError
from manuscript.filters import citations, crossref
from manuscript.font_fallback import fallback_fonts
from manuscript.pandoc import UnconvertibleMath
from manuscript.scan import scan

# Symbol names pandoc's Typst writer (3.9) still emits but Typst 0.15 no longer knows.
RENAMED_SYMBOLS = {"dot.circle": "dot.o"}
# The metadata switch of each list and the kind of Typst figure it lists.
LIST_KINDS = {"lof": "image", "lot": "table"}


def build(chapters: list[str], metadata: str, output: str, build_dir: str = "build",
          warm_typst: bool = False) -> None:
    started = time.perf_counter()
    typst_source = _typst_source(build_dir)
    cache = Cache(typst_source.parent / "cache")
    for path in [metadata, *chapters]:
        if not Path(path).is_file():
            raise SourceError("file does not exist", path)
    scan(chapters, cache=cache)  # parses the chapters missing from the cache (a first build)
    settings = parts.read_settings(metadata, chapters, cache)
    document = filter_parts(settings, chapters)
    try:
        body = typeset_body(settings, document)
        fallback = write_typst(settings, document, body, typst_source)
    except UnconvertibleMath as error:
        raise located.math_error(error, chapters) from None
    compile_pdf(typst_source, Path(output), warm=warm_typst, chapters=chapters, cache=cache)
    cache.sweep()
    seconds = time.perf_counter() - started
    print(f"build: wrote {output} in {seconds:.1f} s (fonts: {', '.join(fallback)})", file=sys.stderr)


def _typst_source(build_dir: str) -> Path:
    typst_source = Path(build_dir) / "thesis.typ"
    if not typst_source.resolve().is_relative_to(Path.cwd().resolve()):
        raise SourceError("the build directory must be inside the project (Typst reads figures "
                          "from its root)", build_dir)
    typst_source.parent.mkdir(parents=True, exist_ok=True)
    return typst_source


@dataclass
class Document:
    """The filtered parts in reading order: title matter, chapters, appendix (when it has any)."""
    title_meta: dict
    title_facts: dict
    chapters: list        # parts.Chapter
    offsets: list         # each chapter's start in pandoc's note count
    appendix: list        # its blocks
    appendix_facts: dict

    def facts(self) -> list[dict]:
        return [self.title_facts, *[c.facts for c in self.chapters], self.appendix_facts]

    def body_cites(self) -> list[list]:
        """The citations of each body part (chapters, appendix) as citeproc is to see them."""
        shifted = [_shift(c.facts["cites"], offset) for c, offset in zip(self.chapters, self.offsets)]
        return [*shifted, self.appendix_facts["cites"]]


def filter_parts(settings: parts.Settings, chapters: list[str]) -> Document:
    filtered = [parts.filter_chapter(path, settings) for path in chapters]
    offsets = _note_offsets([c.facts["notes"] for c in filtered])
    title_meta, title_facts = parts.title_matter(settings, filtered, offsets)
    shown = _shown([title_facts, *[c.facts for c in filtered]])
    appendix = parts.appendix(settings, shown)
    document = Document(title_meta, title_facts, filtered, offsets, *appendix)
    check_document(settings, document, chapters)
    return document


def _note_offsets(notes: list[int]) -> list[int]:
    """Each chapter's start in pandoc's note count, as if the chapters were read as one text."""
    offsets, total = [], 0
    for count in notes:
        offsets.append(total)
        total += count
    return offsets


def _shift(cites: list, offset: int) -> list:
    return [{"t": "Cite", "c": [[{**c, "citationNoteNum": c["citationNoteNum"] + offset}
                                 for c in cite["c"][0]], cite["c"][1]]} for cite in cites]


def _shown(facts: list[dict]) -> dict:
    """What all parts show, each item once, in reading order (as one provenance walk collects it)."""
    shown: dict = {"figures": [], "tables": [], "numbers": []}
    for part in facts:
        for kind, items in part["shown"].items():
            for item in map(tuple, items):
                if item not in shown[kind]:
                    shown[kind].append(item)
    return shown


def check_document(settings: parts.Settings, document: Document, chapters: list[str]) -> None:
    """The filters' document-wide checks, made once over the facts of all parts."""
    _warn_of_repeated_heading_ids(document)
    facts = document.facts()
    with_abstracts = [c.path for c in document.chapters if c.facts["abstract"]]
    crossref.check_document([(with_abstracts, "abstract", document.title_facts),
                             *[([c.path], "body", c.facts) for c in document.chapters],
                             ([], "body", document.appendix_facts)])
    bibliography = settings.get("bibliography", None)
    cited = {key for f in facts for key in f["cited"]}
    citations.report_uncited(set(read_entries(bibliography, settings.cache)), cited, bibliography,
                             settings.get("uncited-entries", "warn"))


def _warn_of_repeated_heading_ids(document: Document) -> None:
    """Read as one text, pandoc numbered a heading id already used in an earlier chapter
    (#summary-1); chapters read one by one repeat it, and Typst cannot link to a repeated label."""
    first_in: dict[str, str] = {}
    for chapter in document.chapters:
        for identifier in dict.fromkeys(chapter.facts["heading_ids"]):
            if identifier in first_in and not crossref.is_crossref(identifier):
                print(f"warning: {chapter.path}: heading id '{identifier}' is also used in "
                      f"{first_in[identifier]}; give one of them an id of its own, "
                      "e.g. {#sec:...}", file=sys.stderr)
            first_in.setdefault(identifier, chapter.path)


def typeset_body(settings: parts.Settings, document: Document) -> list[writer.Typeset]:
    """Each body part's Typst, from the cache where nothing it depends on changed. One part at a
    time: after a one-sentence edit only one part is typeset, and parts typeset side by side
    made that rebuild no faster (1.49 s one at a time, 1.57 s side by side, on 2 cores)."""
    cites = document.body_cites()
    contexts = _contexts(document, cites)
    jobs = [_chapter_job(settings, *args) for args
            in zip(document.chapters, document.offsets, contexts)]
    appendix = document.appendix
    jobs.append(typeset.PartJob(typeset.part_key(settings, digest(appendix), contexts[-1]),
                                lambda: appendix, contexts[-1]))
    return [typeset.typeset_part(settings, job) for job in jobs]


def _contexts(document: Document, cites: list[list]) -> list[typeset.Context]:
    """For each body part: the citations before and after it, and whether the bibliography goes
    to another part (one with a #refs div, or else the last part with any blocks, at whose end
    citeproc would append it)."""
    body = document.facts()[1:]
    has_refs = [f["has_refs"] for f in body]
    last = max((index for index, f in enumerate(body) if f["has_blocks"]), default=-1)
    contexts = []
    for index in range(len(cites)):
        before = document.title_facts["cites"] + [c for part in cites[:index] for c in part]
        after = [c for part in cites[index + 1:] for c in part]
        elsewhere = not has_refs[index] and (any(has_refs) or index != last)
        contexts.append(typeset.Context(before, after, elsewhere))
    return contexts


def _chapter_job(settings, chapter: parts.Chapter, offset: int,
                 context: typeset.Context) -> typeset.PartJob:
    def blocks():
        shifted = parts.chapter_blocks(chapter, settings)
        ast.shift_notes(shifted, offset)
        return shifted
    key = typeset.part_key(settings, digest(chapter.key, offset), context)
    return typeset.PartJob(key, blocks, context)


def write_typst(settings, document: Document, body: list, typst_source: Path) -> list[str]:
    """Write build/thesis.typ (atomically); return the fonts chosen for it."""
    everything = [c for part in document.body_cites() for c in part]
    title_meta, title_chars = typeset.title_matter(
        settings, document.title_meta, typeset.Context([], everything, True))
    fallback = fallback_fonts(settings, title_chars + "".join(part.chars for part in body))
    fonts = {"t": "MetaList", "c": [{"t": "MetaString", "c": name} for name in fallback]}
    meta = {**title_meta, "fonts": fonts, **empty_lists_off(document, title_meta)}
    code_blocks = [b for f in document.facts()[1:] for b in f["code_blocks"]]
    before, after = typeset.frame(settings, meta, code_blocks)
    atomic.write(typst_source, rename_symbols(before + writer.join(body) + after))
    return fallback


def empty_lists_off(document: Document, meta: dict) -> dict:
    """`lof` and `lot` turned off where the thesis has no figure for that list. Known here, not
    by a query in the template: a list that appears once Typst has found a figure moves every
    page after it, which cost each compile of this thesis a layout pass (0.28 s of 1.60 s).
    Raw Typst in a chapter may make figures of its own: with any, the lists stay as asked."""
    if any(chapter.facts["raw_typst"] for chapter in document.chapters):
        return {}
    kinds = {kind for facts in document.facts() for kind in facts["figure_kinds"]}
    return {name: {"t": "MetaBool", "c": False} for name, kind in LIST_KINDS.items()
            if name in meta and kind not in kinds}


def rename_symbols(typst: str) -> str:
    """The Typst source with every symbol of RENAMED_SYMBOLS under its current name."""
    for old, new in RENAMED_SYMBOLS.items():
        typst = re.sub(rf"(?<![\w.]){re.escape(old)}(?![\w.])", new, typst)
    return typst


def compile_pdf(source: Path, output: Path, warm: bool = False, chapters: list[str] = (),
                cache=None) -> None:
    """Compile the Typst source to `output` atomically; with `warm`, on the Typst server of the
    build folder when the user started one (manuscript.typst_server). An error in the chapters'
    raw Typst is reported at its chapter line (manuscript.located)."""
    font_paths = [str(d) for d in _font_dirs()]
    with atomic.replacing(output) as temporary:
        served = typst_server.compile_warm(source, temporary, Path.cwd(), font_paths) if warm else None
        reply = served or _compile_here(source, temporary, font_paths)
        if "error" in reply and "diagnostic" not in reply:  # a server started by an older build
            reply = _compile_here(source, temporary, font_paths)
        if "error" in reply:
            raise located.typst_error(reply["error"], reply["diagnostic"], source, list(chapters), cache)
        for warning in reply["warnings"]:
            print(f"typst: warning: {warning}", file=sys.stderr)


def _compile_here(source: Path, output: str, font_paths: list[str]) -> dict:
    import typst  # late: the Typst compiler is only needed at the very end

    try:
        _, warnings = typst.compile_with_warnings(str(source), output=output, format="pdf",
                                                  root=str(Path.cwd()), font_paths=font_paths)
    except typst.TypstError as error:
        return {"error": str(error), "diagnostic": str(getattr(error, "diagnostic", "") or "")}
    return {"warnings": [str(warning) for warning in warnings]}


def _font_dirs() -> list[Path]:
    from manuscript import fonts

    return fonts.font_dirs(Path.cwd())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="+", help="chapter files, in reading order")
    parser.add_argument("--metadata", default="metadata.yaml")
    parser.add_argument("--output", default="thesis.pdf")
    parser.add_argument("--build-dir", default="build")
    parser.add_argument("--typst-server", action="store_true",
                        help="compile on the Typst server you started, when one answers "
                             "(python -m manuscript.typst_server)")
    args = parser.parse_args(argv)
    try:
        build(args.chapters, args.metadata, args.output, args.build_dir, args.typst_server)
    except SourceError as error:
        for line in error.oneline().splitlines():
            print(f"error: {line}", file=sys.stderr)
        return 1
    except OSError as error:  # a file the build cannot read or write: no space, no permission
        print(f"error: {_os_error(error).oneline()}", file=sys.stderr)
        return 1
    return 0


def _os_error(error: OSError) -> SourceError:
    """The error at the file it concerns (the target, when a temporary file was moved there)."""
    path = error.filename2 if error.filename2 is not None else error.filename
    message = error.strerror or str(error)
    if isinstance(error, FileExistsError):
        message = "exists, and is not a folder"
    return SourceError(message, None if path is None else os.fsdecode(path))


if __name__ == "__main__":
    sys.exit(main())
