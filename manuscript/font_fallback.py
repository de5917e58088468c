"""The fonts to ask Typst for, chosen once per set of characters and per machine's fonts.

manuscript.fonts does the choosing (loading the coverage of every font file, perhaps asking
Typst about its embedded fonts); the build keeps the choice in its cache, keyed by the
characters of the text, the preferred families and the font files present, so a rebuild whose
text uses no new character does not choose again.
"""
from __future__ import annotations

import sys
from pathlib import Path

from manuscript import fonts
from manuscript.cache import key as cache_key


def fallback_fonts(settings, chars: str) -> list[str]:
    """Preferred families (metadata `fonts`) plus those covering other scripts in `chars`;
    characters no font covers are reported on stderr, on every build that has them."""
    preferred = settings.get("fonts", []) or []
    preferred = [preferred] if isinstance(preferred, str) else list(preferred)
    dirs = fonts.font_dirs(Path.cwd())
    key = cache_key("fonts", sorted(set(chars)), preferred, fonts.font_files(dirs))
    # the probe must see the fonts Typst will be given (fonts/ included), not only its own
    fallback, missing = settings.cache.remember("fonts", key, lambda: fonts.choose_fonts(
        chars, fonts.scan_fonts(dirs), preferred, font_paths=dirs))
    if missing:
        print(fonts.report_missing(missing), file=sys.stderr)
    return list(fallback)
