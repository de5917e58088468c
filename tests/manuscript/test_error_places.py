"""Each bad input stops the fixture thesis build with one line at the offending element's own
file and line (not the first textual match of its key), and a non-zero exit."""
import json
import subprocess
import sys

import pytest

from manuscript.build import main
from tests.checkout import checkout_env
from tests.manuscript.test_build import write_fixture

RESULT = "`toy.dense.test_acc.mean`{.result}"


def build_error(project, capsys, chapters: dict[str, str] | None = None) -> str:
    """The one line the build prints, after replacing the fixture's `chapters` texts."""
    names = write_fixture(project)
    for name, text in (chapters or {}).items():
        (project / "chapters" / name).write_bytes(text.encode() if isinstance(text, str) else text)
    assert main(["--metadata", "metadata.yaml", "--output", "thesis.pdf", *names]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines and "Traceback" not in "\n".join(lines)
    return lines[-1]


@pytest.mark.parametrize("chapters, expected", [
    ({"01-intro.md": "# I {#sec:intro}\n\nText.\n\n## Again {#sec:intro}\n"},
     "chapters/01-intro.md:5: label 'sec:intro' is defined twice"),
    ({"02-results.md": "# R {#sec:results}\n\nText.\n\n## Again {#sec:intro}\n"},
     "chapters/02-results.md:5: label 'sec:intro' is defined twice"),
    ({"01-intro.md": f"# I {{#sec:intro}}\n\nA {RESULT}.\n",
      "02-results.md": f"# R {{#sec:results}}\n\nB {RESULT},\n\n{RESULT}\n\nand {RESULT[:-1]} fmt=\"bad\"}}.\n"},
     "chapters/02-results.md:7: result 'toy.dense.test_acc.mean': bad format 'bad'"),
    ({"02-results.md": "# R {#sec:results}\n\nSee @frankle2019lottery.\n\nAnd [@sec:results; @frankle2019lottery].\n"},
     "chapters/02-results.md:5: '@frankle2019lottery' mixes a citation into a cross-reference"),
    ({"02-results.md": "# R {#sec:results}\n\nSee[^1] and @nobody.\n\n[^1]: A note on @nobody.\n"},
     "chapters/02-results.md:5: unknown citation key 'nobody'"),
    ({"00-abstract.md": "# Abstract {.abstract}\n\nShort.\n\nIt cites @nobody.\n"},
     "chapters/00-abstract.md:5: unknown citation key 'nobody'"),
])
def test_error_is_at_the_offending_element(project, capsys, chapters, expected):
    assert build_error(project, capsys, chapters).startswith(f"error: {expected}")


def test_unclosed_fenced_div_is_an_error_at_its_opening_line(project, capsys):
    text = "# R {#sec:results}\n\n::: {.note}\nText.\n\nMore text.\n"
    assert build_error(project, capsys, {"02-results.md": text}) == (
        "error: chapters/02-results.md:3: fenced div (:::) is never closed; close it with a line ':::'")


def test_tex_math_typst_cannot_take_is_an_error_at_its_line(project, capsys):
    text = "# R {#sec:results}\n\nText.\n\n$$ \\foo{x} + 1 $$\n"
    assert build_error(project, capsys, {"02-results.md": text}) == (
        "error: chapters/02-results.md:5: TeX math pandoc cannot convert to Typst: $\\foo{x} + 1$ "
        "(unexpected control sequence \\foo)")


@pytest.mark.parametrize("text, line", [
    ("# R {#sec:results}\n\nText.\n\n```{=typst}\n#let x = 1\n#nosuchfunc(x)\n```\n\nMore.\n", 7),
    ("# R {#sec:results}\n\nText `#nosuchfunc(1)`{=typst} here.\n", 3),
])
def test_typst_error_in_raw_typst_names_the_chapter_line(project, capsys, text, line):
    assert build_error(project, capsys, {"02-results.md": text}) == (
        f"error: chapters/02-results.md:{line}: in raw Typst: unknown variable: nosuchfunc")


def test_ragged_csv_row_is_an_error_at_its_line_of_the_csv(project, capsys):
    with open(project / "results" / "toy" / "rounds.csv", "a") as csv:
        csv.write("imp,0,2,0.6\n")
    assert build_error(project, capsys) == (
        "error: results/toy/rounds.csv:6: row has 4 values, the header 5 columns "
        "(read for the table at chapters/02-results.md:5)")


def test_null_along_a_result_path_says_what_is_null(project, capsys):
    summary = project / "results" / "toy" / "summary.json"
    summary.write_text(json.dumps({**json.loads(summary.read_text()), "dense": None}))
    assert build_error(project, capsys) == (
        "error: chapters/02-results.md:9: result 'toy.dense.test_acc.mean': 'toy.dense' is null "
        "in results/toy/summary.json, so it has no 'test_acc'")


def test_non_utf8_chapter_is_an_error_at_the_line_of_the_byte(project, capsys):
    text = "# R {#sec:results}\n\nIt cites @nobody.\n\nCaf\xe9 au lait.\n".encode("latin-1")
    assert build_error(project, capsys, {"02-results.md": text}) == (
        "error: chapters/02-results.md:5: not UTF-8: byte 0xe9 (save the file as UTF-8)")


@pytest.mark.parametrize("find, replace, expected", [
    ("lot: true", 'lot: [true\ntitle: "x', "metadata.yaml:15: YAML: while parsing a flow sequence; expected ','"),
    ("uncited-entries: error", "uncited-entries: maybe", "metadata.yaml:22: uncited-entries: must be warn or error"),
    ("provenance-appendix: true", "provenance-appendix: 3", "metadata.yaml:37: provenance-appendix: must be true or false"),
    ("toc: true", "toc: yes", "metadata.yaml:13: toc: must be true or false"),
    ('fonts: ["Libertinus Serif", "DejaVu Serif"]', "fonts: 7", "metadata.yaml:32: fonts: must be text or a list of texts"),
    ("csl: csl/numeric.csl", "csl: csl/none.csl", "metadata.yaml:19: csl: file csl/none.csl does not exist"),
    ('  doi: "http://elib.openu.ac.il/login?url=https://doi.org/{doi}"', "  doi: x",
     "metadata.yaml:28: library-links: doi must be a link pattern holding {doi}"),
    ("provenance-appendix: true", "provenance-appendix: true\nunlinkable-entries: never",
     "metadata.yaml:38: unlinkable-entries: must be warn or error"),
    ("provenance-appendix: true", "provenance-appendix: true\nlabels:\n  supervisor: Betreuer\n  supervisr: X",
     "metadata.yaml:40: labels: unknown label 'supervisr'"),
])
def test_bad_metadata_is_an_error_at_its_line(project, capsys, find, replace, expected):
    metadata = project / "metadata.yaml"
    assert find in metadata.read_text()
    metadata.write_text(metadata.read_text().replace(find, replace))
    assert build_error(project, capsys).startswith(f"error: {expected}")


def test_broken_csl_style_is_an_error_at_its_line(project, capsys):
    (project / "csl" / "numeric.csl").write_text('<?xml version="1.0"?>\n<style>\n</styl>\n')
    assert build_error(project, capsys) == "error: csl/numeric.csl:3: not well-formed XML: mismatched tag"


def test_output_that_cannot_be_written_is_one_line_naming_it(project, capsys):
    (project / "thesis.pdf").mkdir()
    assert build_error(project, capsys) == "error: thesis.pdf: Is a directory"


def test_build_never_waits_on_its_standard_input(project):
    """As in a terminal: stdin open, nothing ever typed. Pandoc reading it would wait forever."""
    names = write_fixture(project)
    with subprocess.Popen([sys.executable, "-m", "manuscript.build", "--output", "thesis.pdf", *names],
                          stdin=subprocess.PIPE, stderr=subprocess.PIPE, env=checkout_env()) as build:
        try:
            assert build.wait(timeout=60) == 0
        finally:
            build.kill()
