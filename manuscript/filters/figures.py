"""Figures: every image a chapter shows must exist when the thesis is typeset.

The workflow makes figures before this runs (the thesis target depends on each image the
chapters reference), so a missing file here means a path no rule produces or a typo: the build
stops at the chapter line instead of Typst failing later without one. Remote images are refused
because the build must not depend on the network. Paths are rewritten relative to the Typst
root (a leading ``/``), since Typst resolves them from the generated file under ``build/``.
"""
from __future__ import annotations

from pathlib import Path

import panflute as pf

from manuscript.filters.common import element_error, ordinal, run


def prepare(doc: pf.Doc) -> None:
    pass


def action(elem, doc: pf.Doc):
    if isinstance(elem, pf.Image) and not elem.url.startswith("/"):
        check_image(elem.url, doc, ordinal(doc, "image", elem.url))
        elem.url = "/" + elem.url
    return None


def finalize(doc: pf.Doc) -> None:
    pass


def check_image(url: str, doc: pf.Doc, nth: int = 1) -> None:
    if "://" in url:
        raise element_error(f"figure {url} is remote; keep figures in the repository", doc, "image", url, nth)
    if not Path(url).is_file():
        raise element_error(f"figure {url} does not exist (no rule made it)", doc, "image", url, nth)


def main(doc: pf.Doc | None = None):
    return run(action, prepare, finalize, doc)


if __name__ == "__main__":
    main()
