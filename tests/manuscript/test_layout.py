"""Layout read back from the PDF of a full build: numeric bibliography labels of one or two
digits start their text at the same place, and a short table header word is not hyphenated."""
from __future__ import annotations

from pypdf import PdfReader

from manuscript.build import main
from tests.manuscript.test_build import write_fixture

ENTRIES = 12


def _bib() -> str:
    return "".join(f"@misc{{entry{n},\n  title = {{Paper number {n} about sparse networks and their "
                   f"long titles that wrap onto a second line of the bibliography}},\n  author = "
                   f"{{Author, Some}},\n  year = {{20{n:02d}}},\n  eprint = {{1803.{n:05d}}}\n}}\n"
                   for n in range(1, ENTRIES + 1))


def _runs(page) -> list[tuple[str, float]]:
    """The page's text runs with the x they start at."""
    runs = []
    page.extract_text(visitor_text=lambda text, cm, tm, font, size: runs.append((text, tm[4] + cm[4])))
    return [(text, x) for text, x in runs if text.strip()]


def _starts(page) -> dict[str, float]:
    """x where the text after each "[n]" label begins."""
    runs = _runs(page)
    starts = {}
    for (text, _), (after, x) in zip(runs, runs[1:]):
        if text.strip().startswith("[") and text.strip().endswith("]") and after.strip():
            starts[text.strip()] = round(x, 1)
    return starts


def test_numeric_labels_line_up(project):
    chapters = write_fixture(project)
    (project / "references.bib").write_text(_bib(), encoding="utf-8")
    cites = "; ".join(f"@entry{n}" for n in range(1, ENTRIES + 1))
    (project / "chapters" / "01-intro.md").write_text(
        f"# Introduction {{#sec:intro}}\n\nMany papers [{cites}].\n\n"
        "| Remaining | Accuracy |\n|---|---|\n| 1 | 2 |\n\n: Words. {#tbl:w}\n", encoding="utf-8")
    (project / "chapters" / "02-results.md").write_text("# Results {#sec:results}\n\nNone.\n")
    assert main(["--metadata", "metadata.yaml", "--output", "thesis.pdf", *chapters]) == 0
    reader = PdfReader("thesis.pdf")
    starts = {}
    for page in reader.pages:
        starts.update(_starts(page))
    assert {"[1]", "[9]", "[10]", "[12]"} <= set(starts), starts
    assert starts["[1]"] == starts["[9]"] == starts["[10]"] == starts["[12]"]
    wrapped = [x for page in reader.pages for text, x in _runs(page) if text.startswith("second line")]
    assert wrapped and {round(x, 1) for x in wrapped} == {starts["[1]"]}  # the hanging indent
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "Remaining" in text and "Remain-" not in text


def test_a_list_entry_never_leaves_its_page_number_alone_on_a_line(project):
    """Captions of every length from one to two lines: whatever length the last line has, the
    page number ends it, and never stands on a line of its own."""
    chapters = write_fixture(project)
    sentence = ("Iterative magnitude pruning against one-shot pruning from the trained dense network "
                "to the same densities: test accuracy (left) and early-stopping iteration (right) "
                "for every seed")
    # one caption per length, a character apart, so that some last line ends at any point
    tables = "".join(f"| a |\n|---|\n| 1 |\n\n: {sentence[:length].strip()}. {{#tbl:t{length}}}\n\n"
                     for length in range(70, 150))
    (project / "references.bib").write_text(_bib(), encoding="utf-8")
    cites = "; ".join(f"@entry{n}" for n in range(1, ENTRIES + 1))
    (project / "chapters" / "01-intro.md").write_text(
        f"# Introduction {{#sec:intro}}\n\nMany papers [{cites}].\n\n{tables}", encoding="utf-8")
    (project / "chapters" / "02-results.md").write_text("# Results {#sec:results}\n\nNone.\n")
    assert main(["--metadata", "metadata.yaml", "--output", "thesis.pdf", *chapters]) == 0
    pages = [page.extract_text() for page in PdfReader("thesis.pdf").pages]
    listing = "\n".join(text for text in pages if "List of Tables" in text)
    alone = [line for line in listing.splitlines() if line.strip().isdigit()]
    assert "Table 1.80" in listing and not alone, listing
