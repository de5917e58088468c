"""Tables, read back from the PDF: a short table is kept whole wherever a page break falls, a
table longer than a page breaks with its header repeated on each page, and cells are set ragged
and, where the author gave a column no alignment, flush left."""
from __future__ import annotations

import pypdf
import pytest

from tests.manuscript.test_template import build, project  # noqa: F401  (module fixture)

FILLER = " ".join(["Sparse networks train well when their masks are found early."] * 10)
SHORT_ROWS, LONG_ROWS, PLACES = 8, 70, 12


def table(tag: str, rows: int) -> str:
    """A pipe table whose rows read back as "TAG-1 x", "TAG-2 x", ..."""
    body = "".join(f"| {tag}-{row} | x |\n" for row in range(1, rows + 1))
    return f"| Name {tag} | Value |\n|---|---|\n{body}\n: Table {tag}.\n"


# The first chapter asks Typst whether it justifies the body and a table cell, and how it aligns
# a cell of a column the author gave no alignment. In chapter k, k paragraphs come before a
# short table, so the page break falls at a different place in each: without the keep-whole
# rule some of these tables are split (checked by making every table breakable). The last
# chapter holds a table taller than a page.
CHAPTERS = "\n\n".join(
    ["# Cells\n\nBody justified: `#context par.justify`{=typst}.\n\n"
     "| Cell | Justified |\n|:--|:--|\n| a | `#context par.justify`{=typst} |\n\n: Cells.\n\n"
     "| Cell | Aligned |\n|---|---|\n| b | `#context repr(align.alignment)`{=typst} |\n\n"
     ": Default alignment.\n"]
    + [f"# Place {k}\n\n" + "\n\n".join([FILLER] * k) + f"\n\n{table(f's{k}', SHORT_ROWS)}"
     for k in range(1, PLACES + 1)] + [f"# Long\n\n{table('long', LONG_ROWS)}"])


@pytest.fixture(scope="module")
def pages(project):  # noqa: F811
    pdf, warnings = build(project, "title: Tables\ntoc: false\n", CHAPTERS, name="tables")
    assert warnings == []
    return [" ".join(page.extract_text().split()) for page in pypdf.PdfReader(pdf).pages]


def pages_of_rows(pages: list[str], tag: str, rows: int) -> set[int]:
    found = {row: [i for i, text in enumerate(pages) if f"{tag}-{row} x" in text]
             for row in range(1, rows + 1)}
    assert all(found.values()), f"rows of {tag} missing from the PDF"
    return {i for places in found.values() for i in places}


def test_a_short_table_is_never_split_across_pages(pages):
    split = [k for k in range(1, PLACES + 1) if len(pages_of_rows(pages, f"s{k}", SHORT_ROWS)) > 1]
    assert split == []


def test_a_table_longer_than_a_page_breaks_with_its_header_on_each_page(pages):
    spread = sorted(pages_of_rows(pages, "long", LONG_ROWS))
    assert len(spread) >= 2 and spread == list(range(spread[0], spread[-1] + 1))
    assert all("Name long Value" in pages[i] for i in spread)


def test_table_cells_are_ragged_while_the_body_is_justified(pages):
    page = next(text for text in pages if "Body justified" in text)
    assert "Body justified: true." in page and "a false" in page


def test_a_column_without_an_alignment_is_set_flush_left_as_in_print(pages):
    """pandoc leaves such a column's alignment to Typst, whose table sits in a centred block."""
    page = next(text for text in pages if "Default alignment" in text)
    assert "b start" in page
