"""Fonts for the Typst build: where they are, what they cover, and which to ask Typst for.

The thesis names its fonts (metadata `fonts`, passed to `thesis.with(fonts: ...)`) as a fallback
list. This module makes that list fit the text: the preferred families first, then installed
families for scripts the preferred ones lack (Hebrew, CJK, ...), and it reports characters that
no font at all can draw.

Typst itself is silent about missing glyphs: with a font list and fallback on it draws a tofu box
and `typst.compile_with_warnings` returns no warning. It does refuse them when exporting PDF/A, with
one error per character ("the text "中" could not be displayed with font ..."), so
`typst_uncovered` compiles a tiny probe document with `pdf_standards=["a-2b"]` and reads those
errors. That is how the coverage of Typst's embedded fonts (Libertinus Serif, New Computer Modern,
DejaVu Sans Mono), which live inside the typst binary and not in files, is known truthfully.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from pathlib import Path

FONT_SUFFIXES = {".ttf", ".otf", ".ttc", ".otc"}

# The usual places fonts are installed on Linux and macOS; Typst searches them too.
SYSTEM_FONT_DIRS = (
    Path("/usr/share/fonts"),
    Path("/usr/local/share/fonts"),
    Path("~/.local/share/fonts"),
    Path("~/.fonts"),
    Path("/Library/Fonts"),
    Path("~/Library/Fonts"),
)


def font_dirs(project_root) -> list[Path]:
    """Existing font folders: the project's `fonts/` first (it wins), then the system ones."""
    candidates = [Path(project_root) / "fonts"] + [d.expanduser() for d in SYSTEM_FONT_DIRS]
    return [d for d in candidates if d.is_dir()]


# ---------------------------------------------------------------------------------------------
# Scanning font files (fontTools).

def _fonttools_faces(path: Path) -> list[tuple[str, set[int]]]:
    """(family, code points) for each face in a font file; the family as Typst would name it
    when Typst is not asked (typographic family, name ID 16, else ID 1)."""
    from fontTools.ttLib import TTCollection, TTFont

    # The faces of a collection share one open file: closing a face would close it for the
    # faces after it, so the file is closed once, after every face is read.
    if path.suffix.lower() in {".ttc", ".otc"}:
        container = TTCollection(str(path), lazy=True)
        fonts = list(container.fonts)
    else:
        container = TTFont(str(path), lazy=True)
        fonts = [container]
    try:
        return [_face(font, path) for font in fonts]
    finally:
        container.close()


def _face(font, path: Path) -> tuple[str, set[int]]:
    names = font["name"]
    family = names.getDebugName(16) or names.getDebugName(1) or path.stem
    return family, set(font.getBestCmap() or {})


def _typst_family_names(dirs) -> dict[tuple[str, int], str]:
    """(resolved path, face index) -> the family name Typst uses, so the names we hand Typst are
    the ones it matches (it folds "DejaVu Sans Condensed" into "DejaVu Sans", for instance)."""
    import typst

    book = typst.Fonts(include_system_fonts=False, include_embedded_fonts=False,
                       font_paths=[str(d) for d in dirs])
    return {(str(Path(f.path).resolve()), f.index): f.family for f in book.fonts() if f.path}


def _font_files(dirs):
    seen = set()
    for d in dirs:
        for root, _subdirs, files in os.walk(d, followlinks=True):
            for name in files:
                path = Path(root, name)
                if path.suffix.lower() in FONT_SUFFIXES:
                    real = path.resolve()
                    if real not in seen:
                        seen.add(real)
                        yield real


def font_files(dirs) -> list:
    """Every font file under `dirs` (which Typst may use), as (path, size, modification time):
    what a choice of fonts is keyed on."""
    found = []
    for path in _font_files(dirs):
        stat = path.stat()
        found.append((str(path), stat.st_size, stat.st_mtime_ns))
    return sorted(found)


def scan_fonts(dirs) -> dict[str, set[int]]:
    """Family -> code points covered by any of its faces, for every font file under `dirs`.

    Faces of one family are united (a bold face may lack a glyph its regular face has; the
    family still "has" it for the purpose of choosing families). Not cached: the build caches
    the choice made from it (manuscript.font_fallback), so this runs only when the text has a
    character it has not had before (0.36 s for the 22 font files of a bare Linux machine).
    """
    dirs = [Path(d) for d in dirs]
    typst_names = _typst_family_names(dirs)
    families: dict[str, set[int]] = {}
    for path in _font_files(dirs):
        try:
            faces = _fonttools_faces(path)
        except Exception:  # a broken or exotic file is skipped, as Typst skips it
            faces = []
        for index, (family, codepoints) in enumerate(faces):
            name = typst_names.get((str(path), index), family)
            families.setdefault(name, set()).update(codepoints)
    return families


# ---------------------------------------------------------------------------------------------
# Asking Typst (the truthful check, embedded fonts included).

def embedded_families() -> set[str]:
    """Families compiled into the typst package (available everywhere, no file to scan)."""
    import typst

    return set(typst.Fonts(include_system_fonts=False, include_embedded_fonts=True).families())


_UNDISPLAYABLE = re.compile(r'the text `"((?:[^"\\]|\\.)*)"` could not be displayed')
_ESCAPE = re.compile(r"\\u\{([0-9a-fA-F]+)\}|\\(.)")


def _unrepr(s: str) -> str:
    """Undo Typst's string repr escapes (\\u{..}, \\", \\\\, \\n, \\t, \\r)."""
    simple = {"n": "\n", "t": "\t", "r": "\r"}
    return _ESCAPE.sub(lambda m: chr(int(m[1], 16)) if m[1] else simple.get(m[2], m[2]), s)


def typst_uncovered(chars, families, font_paths=(), fallback: bool = True) -> set[str]:
    """Characters of `chars` Typst cannot draw with `families` (and, with `fallback`, with any
    font it knows: embedded, system and `font_paths`). One small compile, PDF/A-2b export,
    whose errors name every undisplayable character."""
    import typst

    chars = sorted(set(chars))
    if not chars:
        return set()
    # Each character as a \u{...} escape in a Typst string: no markup can misread it, and the
    # spaces keep every character its own cluster so each gets its own error.
    text = " ".join("\\u{%x}" % ord(c) for c in chars)
    # JSON string syntax with ensure_ascii off is valid Typst string syntax (\" and \\ only).
    names = ", ".join(json.dumps(f, ensure_ascii=False) for f in families)
    source = (f"#set text(font: ({names},), fallback: {'true' if fallback else 'false'})\n"
              f'#"{text}"\n')
    try:
        typst.compile(source.encode("utf-8"), format="pdf", pdf_standards=["a-2b"],
                      font_paths=[str(p) for p in font_paths])
    except typst.TypstError as err:
        report = f"{err.message}\n{getattr(err, 'diagnostic', '')}"
        found = _UNDISPLAYABLE.findall(report)
        if not found:
            raise RuntimeError(f"font probe failed for another reason: {err.message}") from err
        wanted = set(chars)
        return {c for text in found for c in _unrepr(text) if c in wanted}
    return set()


# ---------------------------------------------------------------------------------------------
# Choosing the fallback list.

def _needs_glyph(ch: str) -> bool:
    """Characters a font must draw: not whitespace, controls, format characters (bidi marks,
    joiners) or variation selectors, which shaping consumes without a cmap entry."""
    cat = unicodedata.category(ch)
    if cat[0] in "ZC" and cat != "Co":
        return False
    cp = ord(ch)
    return not (0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF)


def _style_words(name: str) -> set[str]:
    return {w for w in name.lower().split() if w in {"serif", "sans", "mono"}}


def choose_fonts(text: str, families_available: dict[str, set[int]], preferred: list[str],
                 *, font_paths=(), probe: bool = True) -> tuple[list[str], list[str]]:
    """(fallback list for `thesis.with(fonts:)`, characters no font covers).

    The list is the preferred families Typst can find (scanned or embedded), then installed
    families chosen greedily to cover the characters the preferred ones lack; a family sharing
    the first preference's style (serif/sans) wins ties, monospace and math families come last.
    With `probe` (the default) Typst is asked about what files cannot tell: the coverage of
    embedded families and which characters no font at all has. Without it, embedded families
    count as covering nothing, so the list may grow and the missing set is an upper bound.
    """
    # No preference means Typst's own default body font, not whichever font covers most.
    preferred = [preferred] if isinstance(preferred, str) else list(preferred or ["Libertinus Serif"])
    chars = {c for c in set(text) if _needs_glyph(c)}
    known = set(families_available) | embedded_families()
    fallback: list[str] = []
    for family in preferred:
        if family in known and family not in fallback:
            fallback.append(family)

    uncovered = set(chars)
    for family in fallback:
        uncovered = {c for c in uncovered if ord(c) not in families_available.get(family, ())}
    if probe and uncovered and any(f not in families_available for f in fallback):
        uncovered = typst_uncovered(uncovered, fallback, font_paths, fallback=False)

    style = _style_words(preferred[0])
    candidates = sorted(f for f in families_available if f not in fallback)
    while uncovered and candidates:
        def merit(family):
            gain = sum(1 for c in uncovered if ord(c) in families_available[family])
            body_text = not ({"mono", "math"} & set(family.lower().split()))
            return (gain, body_text, len(style & _style_words(family)))

        best = max(candidates, key=merit)
        if merit(best)[0] == 0:
            break
        fallback.append(best)
        candidates.remove(best)
        uncovered = {c for c in uncovered if ord(c) not in families_available[best]}

    if probe and uncovered:
        # Typst's own fallback searches every font it knows, embedded ones included.
        uncovered = typst_uncovered(uncovered, fallback or preferred, font_paths)
    return fallback, sorted(uncovered)


# ---------------------------------------------------------------------------------------------
# Reporting.

# First words of Unicode character names that are not script names, or only half of one.
_NAME_SCRIPT = {"CJK": "Han", "MATHEMATICAL": "Common", "MODIFIER": "Common",
                "COMBINING": "Inherited", "FULLWIDTH": "Common", "HALFWIDTH": "Common"}
_TWO_WORD = {"OLD", "NEW", "CANADIAN", "TAI", "MEETEI", "OL", "PAU", "WARANG", "MASARAM"}


def script_of(ch: str) -> str:
    """Approximate Unicode script of a character (Python's unicodedata has no Script
    property): emoji and ideographs by range, punctuation/symbols/digits as Common, letters
    and marks by the script word that starts their Unicode name."""
    cp = ord(ch)
    if 0x1F000 <= cp <= 0x1FAFF or 0x2600 <= cp <= 0x27BF:
        return "Emoji"
    if 0x3400 <= cp <= 0x9FFF or 0x20000 <= cp <= 0x3134F or 0xF900 <= cp <= 0xFAFF:
        return "Han"
    if unicodedata.category(ch)[0] in "PSNZC":
        return "Common"
    words = unicodedata.name(ch, "").split()
    if not words:
        return "Unknown"
    if words[0] in _NAME_SCRIPT:
        return _NAME_SCRIPT[words[0]]
    if words[0] in _TWO_WORD and len(words) > 1:
        return f"{words[0]} {words[1]}".title()
    return words[0].title()


def report_missing(missing_chars, limit: int = 40) -> str:
    """One log line naming the characters no font covers, e.g.
    `fonts: no font for 2 characters: 中 U+4E2D (Han), ᚠ U+16A0 (Runic)`."""
    chars = sorted(set(missing_chars))
    if not chars:
        return "fonts: every character has a glyph"
    shown = ", ".join(f"{c} U+{ord(c):04X} ({script_of(c)})" for c in chars[:limit])
    more = f", and {len(chars) - limit} more" if len(chars) > limit else ""
    noun = "character" if len(chars) == 1 else "characters"
    return f"fonts: no font for {len(chars)} {noun}: {shown}{more}"
