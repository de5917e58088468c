"""The Typst layout and the CSL styles, through real pandoc (citeproc, Typst writer, our template)
and the real typst package, read back from the PDF with pypdf."""
from __future__ import annotations

import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pypdf
import pytest
import typst

from manuscript.fonts import font_dirs
from manuscript.pandoc import pandoc_path

ROOT = Path(__file__).resolve().parents[2]
PANDOC = pandoc_path()

BIB = r"""
@article{lecun1998,
  author = {LeCun, Yann and Bottou, L{\'e}on and Bengio, Yoshua and Haffner, Patrick},
  title = {Gradient-Based Learning Applied to Document Recognition},
  journal = {Proceedings of the IEEE}, volume = {86}, number = {11}, pages = {2278--2324},
  year = {1998}, doi = {10.1109/5.726791}
}
@inproceedings{frankle2019,
  author = {Frankle, Jonathan and Carbin, Michael},
  title = {The Lottery Ticket Hypothesis: Finding Sparse, Trainable Neural Networks},
  booktitle = {International Conference on Learning Representations}, year = {2019},
  url = {https://openreview.net/forum?id=rJl-b3RcF7}
}
@misc{zhou2019,
  author = {Zhou, Hattie and Lan, Janice and Liu, Rosanne and Yosinski, Jason},
  title = {Deconstructing Lottery Tickets: Zeros, Signs, and the Supermask},
  year = {2019}, eprint = {1905.01067}, archivePrefix = {arXiv}, primaryClass = {cs.LG}
}
@article{liu2018,
  author = {Liu, Zhuang and Sun, Mingjie and Zhou, Tinghui and Huang, Gao and Darrell, Trevor},
  title = {Rethinking the Value of Network Pruning},
  journal = {arXiv preprint arXiv:1810.05270}, year = {2018}
}
@article{seven2020,
  author = {One, A. and Two, B. and Three, C. and Four, D. and Five, E. and Six, F. and Seven, G.},
  title = {A Paper With Seven Authors}, journal = {Journal of Things}, year = {2020}
}
"""

METADATA = """\
title: "Winning *Tickets*"
subtitle: A Survey of the Lottery Ticket Hypothesis
author: Ada Lovelace
institution: University of Examples
department: Department of Computer Science
degree: Master of Science
supervisor: [Prof. Alan Turing, Dr. Grace Hopper]
date: November 2026
lang: en-GB
toc: true
lof: true
lot: true
fonts: ["Libertinus Serif", "DejaVu Sans"]
abstract: |
  We survey sparse subnetworks.
extra-abstracts:
  - title: תקציר
    lang: he
    dir: rtl
    body: |
      זהו תקציר בעברית של העבודה.
"""

# Cross-references are written as the crossref filter hands them to Typst (`#ref(<label>)`).
CHAPTERS = r"""
# Introduction {#sec:intro}

Dense networks hide sparse subnetworks [@frankle2019; @lecun1998]. See
`#ref(<fig:plot>)`{=typst}, `#ref(<tbl:res>)`{=typst}, `#ref(<sec:method>)`{=typst},
`#ref(<sec:intro>)`{=typst} and `#ref(<eq:loss>)`{=typst}. A [visible link](https://example.org).

$$ L(\theta) = \sum_i \ell(f(x_i), y_i) $$ `<eq:loss>`{=typst}

$$ a^2 + b^2 = c^2 $$

# Method

## Pruning {#sec:method}

![Accuracy against density.](plot.png){#fig:plot width=30%}

| Method | Accuracy |
|:-------|---------:|
| IMP    | 98.1     |

: Results on MNIST. {#tbl:res}

> A quoted passage.

---

Term
: Its definition.

::: {#a-div}
Text in a div.
:::

# References {.unnumbered}

::: {#refs}
:::

```{=typst}
#show: appendices
```

# Extra Proofs {#sec:proofs}

See `#ref(<sec:proofs>)`{=typst}.
"""


def tiny_png() -> bytes:
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\x20\x60\xa0" * 4 for _ in range(4))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def pandoc(root: Path, *args, stdin=None) -> str:
    """Real pandoc, run from the project root like the build (template, csl, bib are relative)."""
    proc = subprocess.run([PANDOC, *args], input=stdin, capture_output=True, text=True,
                          check=True, cwd=root)
    return proc.stdout


def build(root: Path, metadata: str, chapters: str, name: str = "thesis") -> tuple[Path, list]:
    """The lead's pipeline in miniature: pandoc -> build/NAME.typ -> typst (root = project)."""
    (root / f"{name}.yaml").write_text(metadata, encoding="utf-8")
    (root / f"{name}.md").write_text(chapters, encoding="utf-8")
    typ = root / "build" / f"{name}.typ"
    pandoc(root, f"{name}.md", "--metadata-file", f"{name}.yaml", "--to", "typst",
           "--template", "templates/thesis.pandoc.typ", "--citeproc",
           "--bibliography", "refs.bib", "--csl", "csl/numeric.csl",
           "-M", "link-citations=true", "-o", str(typ.relative_to(root)))
    pdf = root / f"{name}.pdf"
    _, warnings = typst.compile_with_warnings(str(typ), output=str(pdf), root=str(root),
                                              font_paths=[str(d) for d in font_dirs(root)])
    return pdf, warnings


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("thesis")
    for folder in ("templates", "csl"):
        shutil.copytree(ROOT / folder, root / folder)
    (root / "build").mkdir()
    (root / "build" / "plot.png").write_bytes(tiny_png())  # images resolve next to build/*.typ
    (root / "refs.bib").write_text(BIB, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def thesis(project):
    pdf, warnings = build(project, METADATA, CHAPTERS)
    reader = pypdf.PdfReader(pdf)
    pages = [" ".join(p.extract_text().split()) for p in reader.pages]
    return {"pdf": pdf, "warnings": warnings, "pages": pages, "reader": reader}


def page_with(pages, needle) -> int:
    return next(i for i, text in enumerate(pages) if needle in text)


def test_compiles_without_warnings(thesis):
    assert thesis["warnings"] == []


def test_title_page(thesis):
    first = thesis["pages"][0]
    for text in ("University of Examples", "Department of Computer Science", "Winning Tickets",
                 "A Survey of the Lottery Ticket Hypothesis", "Ada Lovelace", "Master of Science",
                 "Supervisors", "Prof. Alan Turing", "Dr. Grace Hopper", "November 2026"):
        assert text in first


def test_abstracts_including_hebrew(thesis):
    pages = thesis["pages"]
    assert "We survey sparse subnetworks." in pages[page_with(pages, "Abstract")]
    hebrew = pages[page_with(pages, "תקציר")]
    # pypdf may give right-to-left words in visual order; each word must be there.
    for word in ("זהו", "בעברית", "העבודה"):
        assert word in hebrew


def test_contents_and_lists(thesis):
    pages = thesis["pages"]
    toc = pages[page_with(pages, "Contents")]
    assert re.search(r"1 Introduction[ .]+1\b", toc)
    assert re.search(r"2\.1 Pruning[ .]+2\b", toc)
    assert "References" in toc and "3 References" not in toc
    assert re.search(r"A Extra Proofs", toc)
    assert re.search(r"Figure 2\.1 Accuracy against density\.[ .]+2", pages[page_with(pages, "List of Figures")])
    assert re.search(r"Table 2\.1 Results on MNIST\.[ .]+2", pages[page_with(pages, "List of Tables")])


def test_page_numbers_roman_then_arabic(thesis):
    pages = thesis["pages"]
    intro = page_with(pages, "Chapter 1 Introduction")
    front = pages[1:intro]
    assert [p.split()[-1] for p in front] == ["ii", "iii", "iv", "v", "vi"][:len(front)]
    assert pages[intro].split()[-1] == "1"
    assert pages[page_with(pages, "Chapter 2 Method")].split()[-1] == "2"


def test_numbered_chapters_sections_and_references(thesis):
    pages = thesis["pages"]
    intro = pages[page_with(pages, "Chapter 1 Introduction")]
    for text in ("[1, 2]", "Figure 2.1", "Table 2.1", "Section 2.1", "Chapter 1", "Equation (1.1)"):
        assert text in intro
    # Only the labelled equation is numbered.
    assert "(1.1)" in intro and "(1.2)" not in intro
    method = pages[page_with(pages, "Chapter 2 Method")]
    for text in ("2.1 Pruning", "Figure 2.1: Accuracy against density.", "Table 2.1: Results on MNIST.",
                 "A quoted passage.", "Term", "Its definition.", "Text in a div."):
        assert text in method


def test_bibliography_and_appendix(thesis):
    pages = thesis["pages"]
    refs = pages[page_with(pages, "References [1]")]
    assert "[1] J. Frankle and M. Carbin" in refs and "[2] Y. LeCun, L. Bottou" in refs
    assert "Appendix A Extra Proofs" in pages[-1] and "See Appendix A." in pages[-1]


def test_links_are_live(thesis):
    uris, internal = set(), 0
    for page in thesis["reader"].pages:
        for annot in page.get("/Annots") or []:
            action = annot.get_object().get("/A")
            if action and "/URI" in action:
                uris.add(action["/URI"])
            elif action or annot.get_object().get("/Dest"):
                internal += 1
    assert "https://example.org" in uris
    assert internal >= 6  # citations, cross-references and outline entries jump inside the PDF


def test_author_and_supervisor_as_string_or_list(project):
    metadata = "title: Short\nauthor: [A. One, B. Two]\nsupervisor: Prof. Solo\n"
    pdf, warnings = build(project, metadata, "# Only\n\nText.\n", name="variant")
    assert warnings == []
    first = " ".join(pypdf.PdfReader(pdf).pages[0].extract_text().split())
    assert "A. One B. Two" in first
    assert "Supervisor Prof. Solo" in first and "Supervisors" not in first


# ---------------------------------------------------------------------------------------------
# The CSL styles through pandoc citeproc.

CITES = ("First [@frankle2019], then [@lecun1998; @zhou2019], [@seven2020, p. 4], "
         "again [@frankle2019; @seven2020], range [@frankle2019; @lecun1998; @zhou2019], "
         "[@liu2018].\n\n# References\n")


def citeproc(project, style: str, markdown: str = CITES, *extra) -> tuple[str, str]:
    out = pandoc(project, "--citeproc", "--bibliography", "refs.bib", "--csl", f"csl/{style}.csl",
                 "-t", "plain", "--wrap=none", *extra, stdin=markdown)
    text, _, bibliography = out.partition("References")
    return text, bibliography


def test_numeric_citations(project):
    text, _ = citeproc(project, "numeric")
    assert text.startswith("First [1], then [2, 3], [4, p. 4], again [1, 4], range [1–3], [5].")


def test_numeric_bibliography(project):
    _, bib = citeproc(project, "numeric")
    entries = [line for line in bib.splitlines() if line.strip()]
    assert entries[0] == ("[1] J. Frankle and M. Carbin, “The lottery ticket hypothesis: Finding "
                          "sparse, trainable neural networks,” in International Conference on "
                          "Learning Representations, 2019.")
    assert entries[1] == ("[2] Y. LeCun, L. Bottou, Y. Bengio, and P. Haffner, “Gradient-based "
                          "learning applied to document recognition,” Proceedings of the IEEE, "
                          "vol. 86, no. 11, pp. 2278–2324, 1998.")
    # pandoc turns `eprint` into an arxiv.org URL, which the style does not print.
    assert entries[2].startswith("[3] H. Zhou, J. Lan, R. Liu, and J. Yosinski, “Deconstructing")
    assert entries[2].endswith(",” 2019.")
    assert entries[3].startswith("[4] A. One, B. Two, C. Three, D. Four, E. Five, F. Six, et al.,")
    assert "arXiv preprint arXiv:1810.05270, 2018." in entries[4]
    assert "http" not in bib and "doi" not in bib.lower()


def test_numeric_preprint_from_csl_data(project):
    """The arXiv id, once in CSL `number` (Zotero's shape, or copied there from pandoc's
    arxiv.org URL before citeproc), reads 'arXiv preprint arXiv:ID'."""
    markdown = textwrap.dedent("""\
        ---
        references:
        - id: zotero
          type: article
          author: [{family: Zhou, given: Hattie}]
          title: Deconstructing lottery tickets
          publisher: arXiv
          number: arXiv:1905.01067
          issued: {date-parts: [[2019]]}
        - id: scholar
          type: article-journal
          author: [{family: Mishra, given: Rahul}]
          title: A survey on compression
          container-title: arXiv preprint
          number: arXiv:2010.03954
          issued: {date-parts: [[2020]]}
        ---
        [@zotero; @scholar]

        # References
        """)
    _, bib = citeproc(project, "numeric", markdown)
    assert [line for line in bib.splitlines() if line] == [
        "[1] H. Zhou, “Deconstructing lottery tickets,” arXiv preprint arXiv:1905.01067, 2019.",
        "[2] R. Mishra, “A survey on compression,” arXiv preprint arXiv:2010.03954, 2020."]


def test_author_date_style(project):
    text, bib = citeproc(project, "author-date")
    assert text.startswith("First (Frankle and Carbin, 2019), then (LeCun et al., 1998; "
                           "Zhou et al., 2019), (One et al., 2020, p. 4)")
    entries = [line for line in bib.splitlines() if line.strip()]
    assert [e.split(",")[0] for e in entries] == ["Frankle", "LeCun", "Liu", "One", "Zhou"]
    assert entries[1] == ("LeCun, Y., Bottou, L., Bengio, Y. and Haffner, P. (1998). Gradient-based "
                          "learning applied to document recognition. Proceedings of the IEEE, "
                          "86(11), 2278–2324.")
    assert "http" not in bib
