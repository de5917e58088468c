"""Floating figures: the List of Figures, `@fig:` references and the caption agree on the page a
figure is printed on, also when Typst defers the figure to a later page. Read back from the PDF."""
from __future__ import annotations

import re

import pypdf
import pytest

from tests.manuscript.test_template import build, project  # noqa: F401  (module fixture)

FILLER = " ".join(["Sparse networks train well when their masks are found early."] * 40)

# Each figure is as tall as the text is wide, after most of a page of text: it cannot fit where
# it is written, so Typst floats it to the top of the next page.
CHAPTERS = "\n\n".join(
    f"# Chapter {n}\n\n{FILLER}\n\n![Float number {n}.](plot.png){{#fig:f{n} width=100%}}\n\n"
    f"See `#ref(<fig:f{n}>)`{{=typst}} here. {FILLER}" for n in (1, 2, 3))

METADATA = "title: Floats\ntoc: false\nlof: true\n"


def _page_of_destination(reader, annotation) -> int | None:
    dest = annotation.get("/Dest")
    action = annotation.get("/A")
    if dest is None and action is not None:
        dest = action.get("/D")
    if dest is None:
        return None
    if isinstance(dest, (str, pypdf.generic.TextStringObject, pypdf.generic.ByteStringObject)):
        dest = reader.named_destinations[dest]
        return reader.get_destination_page_number(dest)
    return reader.get_page_number(dest[0].get_object())


def _link_targets(reader, page_index) -> list[int]:
    """The pages the internal links of one page jump to."""
    annotations = reader.pages[page_index].get("/Annots") or []
    targets = [_page_of_destination(reader, ref.get_object()) for ref in annotations]
    return [t for t in targets if t is not None]


@pytest.fixture(scope="module")
def floats(project):  # noqa: F811
    pdf, warnings = build(project, METADATA, CHAPTERS, name="floats")
    assert warnings == []
    reader = pypdf.PdfReader(pdf)
    pages = [" ".join(p.extract_text().split()) for p in reader.pages]
    return reader, pages


def test_every_figure_is_linked_to_the_page_it_is_printed_on(floats):
    reader, pages = floats
    lof = next(i for i, text in enumerate(pages) if "List of Figures" in text)
    captions = []
    for n in (1, 2, 3):
        caption = next(i for i, text in enumerate(pages) if f"Figure {n}.1: Float number {n}." in text)
        reference = next(i for i, text in enumerate(pages) if f"See Figure {n}.1 here" in text)
        assert caption == reference + 1  # the fixture really defers every figure
        assert _link_targets(reader, reference) == [caption]  # the @fig: link
        listed = re.search(rf"Figure {n}\.1 Float number {n}\.[ .]+(\w+)", pages[lof])[1]
        assert listed == pages[caption].split()[-1]  # the number the footer prints
        captions.append(caption)
    assert sorted(_link_targets(reader, lof)) == captions


# Two deferred figures with the same caption: the markers hold the caption, so their order tells
# them apart.
TWINS = "\n\n".join(
    f"# Chapter {n}\n\n{FILLER}\n\n![The same caption.](plot.png){{#fig:t{n} width=100%}}\n\n"
    f"See `#ref(<fig:t{n}>)`{{=typst}} here. {FILLER}" for n in (1, 2))


def test_figures_with_the_same_caption_are_each_linked_to_their_own_page(project):  # noqa: F811
    pdf, warnings = build(project, METADATA, TWINS, name="twins")
    assert warnings == []
    reader = pypdf.PdfReader(pdf)
    pages = [" ".join(p.extract_text().split()) for p in reader.pages]
    lof = next(i for i, text in enumerate(pages) if "List of Figures" in text)
    captions = []
    for n in (1, 2):
        caption = next(i for i, text in enumerate(pages) if f"Figure {n}.1: The same caption." in text)
        reference = next(i for i, text in enumerate(pages) if f"See Figure {n}.1 here" in text)
        assert caption == reference + 1
        assert _link_targets(reader, reference) == [caption]
        listed = re.search(rf"Figure {n}\.1 The same caption\.[ .]+(\w+)", pages[lof])[1]
        assert listed == pages[caption].split()[-1]
        captions.append(caption)
    assert captions[0] != captions[1] and sorted(_link_targets(reader, lof)) == captions


# A deferred figure and a table written after it with the same caption: the table is printed
# first, the figure's float after it. Each list and link must still find its own.
MIXED = (f"# Mixed\n\n{FILLER}\n\n![Shared caption.](plot.png){{#fig:m width=100%}}\n\n"
         "See `#ref(<fig:m>)`{=typst} and `#ref(<tbl:m>)`{=typst} here.\n\n"
         "| A | B |\n|---|---|\n| 1 | 2 |\n\n: Shared caption. {#tbl:m}\n")


def test_a_figure_and_a_table_with_the_same_caption_each_keep_their_page(project):  # noqa: F811
    pdf, warnings = build(project, METADATA + "lot: true\n", MIXED, name="mixed")
    assert warnings == []
    reader = pypdf.PdfReader(pdf)
    pages = [" ".join(p.extract_text().split()) for p in reader.pages]
    figure = next(i for i, text in enumerate(pages) if "Figure 1.1: Shared caption." in text)
    table = next(i for i, text in enumerate(pages) if "Table 1.1: Shared caption." in text)
    reference = next(i for i, text in enumerate(pages) if "See Figure 1.1 and Table 1.1 here" in text)
    assert table == reference < figure  # the table is printed before the deferred figure
    assert _link_targets(reader, reference) == [figure, table]
    lists = " ".join(pages[:reference])
    assert re.search(r"Figure 1\.1 Shared caption\.[ .]+(\w+)", lists)[1] == pages[figure].split()[-1]
    assert re.search(r"Table 1\.1 Shared caption\.[ .]+(\w+)", lists)[1] == pages[table].split()[-1]
