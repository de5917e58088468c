"""manuscript.fonts: folders, cmap scanning, choosing a fallback list, and the truthful
missing-glyph check through Typst's PDF/A export (real fontTools, real typst)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pypdf
import pytest
import typst

from manuscript import fonts

HEBREW = "שלום"
PUA = "\U000F0001"  # supplementary private use: no font on any machine draws it
SCANNED = fonts.scan_fonts(fonts.font_dirs("/nonexistent"))


def dejavu_sans_file() -> Path:
    for d in fonts.font_dirs("/nonexistent"):
        for path in d.rglob("DejaVuSans.ttf"):
            return path
    pytest.skip("DejaVu Sans is not installed on this machine")


@pytest.fixture
def font_project(tmp_path) -> Path:
    """A project whose fonts/ folder holds one real font file."""
    (tmp_path / "fonts").mkdir()
    shutil.copy(dejavu_sans_file(), tmp_path / "fonts" / "DejaVuSans.ttf")
    return tmp_path


def test_font_dirs_project_first(tmp_path):
    assert tmp_path / "fonts" not in fonts.font_dirs(tmp_path)
    (tmp_path / "fonts").mkdir()
    dirs = fonts.font_dirs(tmp_path)
    assert dirs[0] == tmp_path / "fonts"
    assert all(d.is_dir() for d in dirs)


def test_scan_reads_cmaps_with_typst_family_names(font_project):
    families = fonts.scan_fonts([font_project / "fonts"])
    assert list(families) == ["DejaVu Sans"]
    covered = families["DejaVu Sans"]
    assert all(ord(c) in covered for c in "Aé" + HEBREW)
    assert 0x4E2D not in covered  # 中


def test_choose_fonts_pure_adds_script_families():
    available = {
        "Text Serif": {ord(c) for c in "abcdefghijklmnopqrstuvwxyz "},
        "Hebrew Sans": {ord(c) for c in HEBREW + "abc"},
        "Hebrew Mono": {ord(c) for c in HEBREW},
        "Symbols": {ord("∑")},
    }
    fallback, missing = fonts.choose_fonts(f"abc {HEBREW} ∑ 中", available,
                                           ["Text Serif", "Not Installed"], probe=False)
    # Preferred first; unknown preferred families dropped; the Hebrew text font, not the
    # monospace one; the symbol font for ∑; 中 reported.
    assert fallback == ["Text Serif", "Hebrew Sans", "Symbols"]
    assert missing == ["中"]


def test_choose_fonts_keeps_embedded_family_alone_when_it_covers_the_text():
    fallback, missing = fonts.choose_fonts("Plain English, with “quotes” — and ∑.", SCANNED,
                                           ["Libertinus Serif"])
    assert fallback == ["Libertinus Serif"] and missing == []


def test_choose_fonts_reports_what_no_font_has():
    if any(0x4E2D in cps for cps in SCANNED.values()):
        pytest.skip("this machine has a CJK font")
    fallback, missing = fonts.choose_fonts(f"Text {HEBREW} 中 {PUA}", SCANNED, ["Libertinus Serif"])
    assert fallback[0] == "Libertinus Serif"
    assert missing == ["中", PUA]


def test_typst_probe_sees_embedded_coverage():
    # Libertinus Serif is compiled into typst: no file tells its coverage, the probe does.
    assert fonts.typst_uncovered("aé" + PUA, ["Libertinus Serif"], fallback=False) == {PUA}
    assert fonts.typst_uncovered('"\\#a', ["Libertinus Serif"]) == set()


def test_typst_itself_is_silent_about_missing_glyphs(tmp_path):
    """Why the probe exists: an ordinary compile draws tofu and warns about nothing."""
    source = f'#set text(font: ("Libertinus Serif",))\nA {PUA} B'.encode()
    _, warnings = typst.compile_with_warnings(source, output=str(tmp_path / "t.pdf"))
    assert warnings == []
    text = pypdf.PdfReader(tmp_path / "t.pdf").pages[0].extract_text()
    assert "A" in text and PUA not in text


def test_chosen_list_compiles_hebrew_without_warnings(tmp_path):
    fallback, missing = fonts.choose_fonts(f"Abstract {HEBREW}", SCANNED, ["Libertinus Serif"])
    assert missing == []
    names = ", ".join(f'"{f}"' for f in fallback)
    source = f'#set text(font: ({names},))\n#text(lang: "he", dir: rtl)[{HEBREW}]'.encode()
    _, warnings = typst.compile_with_warnings(source, output=str(tmp_path / "h.pdf"),
                                              pdf_standards=["a-2b"])  # would fail on tofu
    assert warnings == []


def test_script_of():
    assert [fonts.script_of(c) for c in "aαж" + "ש" + "中あ한ᚠ∑1🎉\u0301"] == [
        "Latin", "Greek", "Cyrillic", "Hebrew", "Han", "Hiragana", "Hangul", "Runic", "Common",
        "Common", "Emoji", "Inherited"]


def test_report_missing():
    assert fonts.report_missing([]) == "fonts: every character has a glyph"
    assert fonts.report_missing(["文", "中", "ᚠ"]) == (
        "fonts: no font for 3 characters: ᚠ U+16A0 (Runic), 中 U+4E2D (Han), 文 U+6587 (Han)")
    line = fonts.report_missing([chr(0x4E00 + i) for i in range(50)], limit=2)
    assert line.endswith("一 U+4E00 (Han), 丁 U+4E01 (Han), and 48 more") and "\n" not in line
