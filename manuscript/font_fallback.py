"""The fonts to ask Typst for, chosen once per set of characters and per machine's fonts.

manuscript.fonts does the choosing (loading the coverage of every font file, perhaps asking
Typst about its embedded fonts); the build keeps the choice in its cache, keyed by the
characters of the text, the preferred families and the font files present, so a rebuild whose
text uses no new character does not choose again.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from manuscript import fonts
from manuscript.cache import code_version, digest


def fallback_fonts(settings, chars: str) -> list[str]:
    """Preferred families (metadata `fonts`) plus those covering other scripts in `chars`;
    characters no font covers are reported on stderr, on every build that has them."""
    preferred = settings.get("fonts", []) or []
    preferred = [preferred] if isinstance(preferred, str) else list(preferred)
    dirs = fonts.font_dirs(Path.cwd())
    key = digest("fonts", code_version(), sorted(set(chars)), preferred, font_files(dirs),
                 typst_fingerprint())
    chosen = settings.cache.get("fonts", key)
    if chosen is None:
        chosen = fonts.choose_fonts(chars, fonts.scan_fonts(dirs), preferred)
        settings.cache.put("fonts", key, list(chosen))
    fallback, missing = chosen
    if missing:
        print(fonts.report_missing(missing), file=sys.stderr)
    return list(fallback)


def font_files(dirs) -> list:
    """Every font file under `dirs` (which Typst may use), as (path, size, modification time)."""
    found = []
    for path in fonts._font_files(dirs):
        stat = path.stat()
        found.append((str(path), stat.st_size, stat.st_mtime_ns))
    return sorted(found)


def typst_fingerprint() -> list:
    """Which typst package this is: its embedded fonts come with it."""
    from importlib.util import find_spec

    origin = find_spec("typst._typst").origin
    stat = os.stat(origin)
    return [origin, stat.st_size, stat.st_mtime_ns]
