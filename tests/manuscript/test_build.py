"""A small fixture thesis built end to end: real pandoc, real Typst, checked with pypdf."""
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from pypdf import PdfReader  # noqa: E402

from manuscript.build import main  # noqa: E402
from tests.checkout import checkout_env  # noqa: E402

LIBRARY_ARXIV = ("http://elib.openu.ac.il/login?url=https://search.ebscohost.com/login.aspx?"
                 "direct=true&db=edsarx&AN=edsarx.1803.03635&site=eds-live&scope=site")

CHAPTERS = {
    "00-abstract.md": "# Abstract {.abstract}\n\nA short abstract about tickets.\n",
    "01-intro.md": "# Introduction {#sec:intro}\n\nTickets were proposed in [@frankle2019lottery]; "
                   "see also [@doi2020only] and [@url2021only]. Results follow in @sec:results.\n",
    "02-results.md": "# Results {#sec:results}\n\n![Accuracy of toy tickets](figures/toy.pdf){#fig:toy}\n\n"
                     "::: {#tbl:toy .results-table data=results/toy/rounds.csv template=toy_rounds.md.j2}\n"
                     "Toy accuracy by round.\n:::\n\n"
                     "As @fig:toy and @tbl:toy show, dense accuracy is "
                     "`toy.dense.test_acc.mean`{.result fmt=\".1%\"}.\n",
    "99-references.md": "# References {.unnumbered}\n\n::: {#refs}\n:::\n",
}


def write_fixture(project):
    chapters = project / "chapters"
    chapters.mkdir()
    for name, text in CHAPTERS.items():
        (chapters / name).write_text(text, encoding="utf-8")
    (project / "figures").mkdir()
    figure, axes = plt.subplots(figsize=(4, 3))
    axes.plot([100, 50, 25], [0.7, 0.72, 0.69])
    figure.savefig(project / "figures" / "toy.pdf")
    plt.close(figure)
    return sorted(str(p.relative_to(project)) for p in chapters.glob("*.md"))


def link_targets(reader: PdfReader) -> set[str]:
    uris = set()
    for page in reader.pages:
        for annot in page.get("/Annots", []) or []:
            action = annot.get_object().get("/A")
            if action and "/URI" in action:
                uris.add(action["/URI"])
    return uris


def test_fixture_thesis_builds_to_a_linked_pdf(project):
    chapters = write_fixture(project)
    assert main(["--metadata", "metadata.yaml", "--output", "thesis.pdf", *chapters]) == 0
    reader = PdfReader("thesis.pdf")
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())  # no-break spaces too
    assert "Winning Tickets" in text and "Contents" in text
    assert "A short abstract about tickets." in text
    assert "As Figure 2.1 and Table 2.1 show" in text and "Results follow in Chapter 2" in text
    assert "73.1%" in text and "Provenance of results" in text
    assert "[1]" in text and "???" not in text
    uris = link_targets(reader)
    assert LIBRARY_ARXIV in uris
    assert "http://elib.openu.ac.il/login?url=https://doi.org/10.1000/xyz-123" in uris
    assert "http://elib.openu.ac.il/login?url=https://example.org/page" in uris
    assert 6 <= len(reader.pages) <= 16


def test_failed_build_keeps_the_last_good_pdf(project):
    chapters = write_fixture(project)
    assert main(["--metadata", "metadata.yaml", "--output", "thesis.pdf", *chapters]) == 0
    good = (project / "thesis.pdf").read_bytes()
    (project / "chapters" / "01-intro.md").write_text("# Intro\n\nSee [@nobody1999].\n")
    result = subprocess.run([sys.executable, "-m", "manuscript.build", "--output", "thesis.pdf", *chapters],
                            capture_output=True, text=True, env=checkout_env(),
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "error: chapters/01-intro.md:3: unknown citation key 'nobody1999' (not in references.bib)")
    assert (project / "thesis.pdf").read_bytes() == good


@pytest.mark.parametrize("chapter, text, message", [
    ("01-intro.md", "# I\n\nSee @fig:nope.\n", "chapters/01-intro.md:3: unknown cross-reference label 'fig:nope'"),
    ("02-results.md", "# R\n\n![x](figures/none.pdf)\n", "chapters/02-results.md:3: figure figures/none.pdf does not exist"),
    ("02-results.md", "# R\n\nIt is `toy.dense.nope`{.result}.\n", "chapters/02-results.md:3: result 'toy.dense.nope': no key"),
    ("02-results.md", "# R\n\n::: {.results-table data=results/toy/x.csv template=toy_rounds.md.j2}\nC\n:::\n",
     "chapters/02-results.md:3: table data results/toy/x.csv does not exist"),
])
def test_every_strict_error_names_chapter_and_line(project, chapter, text, message):
    chapters = write_fixture(project)
    (project / "chapters" / chapter).write_text(text)
    result = subprocess.run([sys.executable, "-m", "manuscript.build", "--output", "thesis.pdf", *chapters],
                            capture_output=True, text=True, env=checkout_env(),
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith(f"error: {message}")
    assert not (project / "thesis.pdf").exists()


def test_symbols_typst_renamed_are_written_under_their_new_name():
    from manuscript.build import rename_symbols

    assert rename_symbols("$m dot.circle theta$ and dot.circle.big") == \
        "$m dot.o theta$ and dot.circle.big"  # only the whole symbol name changes


def test_math_with_odot_typesets(project):
    chapters = write_fixture(project)
    intro = project / "chapters" / "01-intro.md"
    intro.write_text(intro.read_text() + "\n$$ m \\odot \\theta $$\n")
    assert main(["--metadata", "metadata.yaml", "--output", "thesis.pdf", *chapters]) == 0


def test_build_directory_outside_the_project_is_one_line_error(project, capsys, tmp_path_factory):
    chapters = write_fixture(project)
    outside = tmp_path_factory.mktemp("elsewhere")
    assert main(["--metadata", "metadata.yaml", "--output", "thesis.pdf",
                 "--build-dir", str(outside), *chapters]) == 1
    assert "build directory must be inside the project" in capsys.readouterr().err


def test_an_authors_appendix_comes_before_the_provenance_appendix(project):
    chapters = write_fixture(project)
    appendix = project / "chapters" / "98-appendix.md"
    appendix.write_text("# Derivations {.appendix #sec:derivations}\n\nSee @sec:derivations.\n"
                        "\n# Tables {.appendix}\n\nMore.\n", encoding="utf-8")
    chapters = sorted([*chapters, "chapters/98-appendix.md"])
    assert main(["--metadata", "metadata.yaml", "--output", "thesis.pdf", *chapters]) == 0
    text = " ".join(" ".join(page.extract_text() for page in PdfReader("thesis.pdf").pages).split())
    assert "Appendix A Derivations" in text and "See Appendix A." in text
    assert "Appendix B Tables" in text and "Appendix C Provenance of results" in text


def test_title_page_labels_from_metadata(project):
    chapters = write_fixture(project)
    metadata = project / "metadata.yaml"
    metadata.write_text(metadata.read_text() + "labels:\n  supervisor: Betreuer\n"
                        "  degree-intro: Eine Arbeit zur Erlangung des Grades\n  appendix: Anhang\n",
                        encoding="utf-8")
    assert main(["--metadata", "metadata.yaml", "--output", "thesis.pdf", *chapters]) == 0
    pages = [" ".join(page.extract_text().split()) for page in PdfReader("thesis.pdf").pages]
    assert "Eine Arbeit zur Erlangung des Grades" in pages[0]
    assert any("Anhang A Provenance of results" in page for page in pages)


@pytest.mark.parametrize("body, lists", [
    ("Prose only.", []),
    ("| a | b |\n|---|---|\n| 1 | 2 |\n\n: A table.", ["List of Tables"]),
    ("![A figure.](figures/toy.pdf)", ["List of Figures"]),
    # Raw Typst may make figures the build cannot see: the lists stay as the metadata asks.
    ("```{=typst}\n#figure(rect(), caption: [Drawn in Typst.])\n```",
     ["List of Figures", "List of Tables"]),
])
def test_a_list_is_printed_only_when_it_may_have_entries(project, body, lists):
    chapters = write_fixture(project)
    (project / "chapters" / "02-results.md").write_text(f"# Results {{#sec:results}}\n\n{body}\n",
                                                        encoding="utf-8")
    assert main(["--metadata", "metadata.yaml", "--output", "thesis.pdf", *chapters]) == 0
    text = " ".join(page.extract_text() for page in PdfReader("thesis.pdf").pages)
    assert [name for name in ("List of Figures", "List of Tables") if name in text] == lists
