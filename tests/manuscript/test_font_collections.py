"""Font collections (.ttc) in fonts/: every face is read, and the build's font choice (probe
included) sees fonts/. The collection is made here: DejaVu Sans plus a tiny font whose only
glyph is a private-use character no installed font has."""
from __future__ import annotations

from pathlib import Path

from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTCollection, TTFont

from manuscript import fonts
from manuscript.cache import Cache
from manuscript.font_fallback import fallback_fonts
from tests.manuscript.test_fonts import PUA, dejavu_sans_file

FAMILY = "Thesis Test Private"


def private_use_font(path: Path) -> None:
    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder([".notdef", "box"])
    builder.setupCharacterMap({ord(PUA): "box"})
    pen = TTGlyphPen(None)
    for x, y in ((100, 0), (100, 700), (500, 700), (500, 0)):
        (pen.lineTo if x != 100 or y != 0 else pen.moveTo)((x, y))
    pen.closePath()
    builder.setupGlyf({".notdef": TTGlyphPen(None).glyph(), "box": pen.glyph()})
    builder.setupHorizontalMetrics({".notdef": (500, 0), "box": (600, 100)})
    builder.setupHorizontalHeader(ascent=800, descent=-200)
    builder.setupNameTable({"familyName": FAMILY, "styleName": "Regular"})
    builder.setupOS2(sTypoAscender=800, usWinAscent=800, usWinDescent=200)
    builder.setupPost()
    builder.save(str(path))


def collection(folder: Path) -> Path:
    """fonts/pair.ttc: DejaVu Sans first, the private-use font second."""
    folder.mkdir(parents=True, exist_ok=True)
    private_use_font(folder.parent / "private.ttf")
    pair = TTCollection()
    pair.fonts = [TTFont(str(dejavu_sans_file())), TTFont(str(folder.parent / "private.ttf"))]
    pair.save(str(folder / "pair.ttc"))
    return folder / "pair.ttc"


def test_every_face_of_a_collection_is_read(tmp_path):
    collection(tmp_path / "fonts")
    families = fonts.scan_fonts([tmp_path / "fonts"])
    assert ord(PUA) in families[FAMILY]
    assert ord("A") in families["DejaVu Sans"]


class _Settings(dict):
    """The metadata and the build cache, as fallback_fonts reads them from parts.Settings."""
    cache: Cache


def test_the_build_uses_a_collection_face_from_fonts_folder(tmp_path, monkeypatch, capsys):
    collection(tmp_path / "fonts")
    monkeypatch.chdir(tmp_path)
    settings = _Settings(fonts=["Libertinus Serif"])
    settings.cache = Cache(tmp_path / "cache")  # empty: the fonts are chosen afresh
    chosen = fallback_fonts(settings, "Text " + PUA)
    assert FAMILY in chosen
    assert "no font for" not in capsys.readouterr().err
