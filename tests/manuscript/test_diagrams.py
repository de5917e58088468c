"""The hand-made diagrams: every committed source compiles with the real Typst to a one-page
vector PDF in the thesis fonts, a broken source fails with one located line and leaves no file,
the output is the same bytes on every compile, and the workflow routes figures/NAME.pdf to the
`diagram` rule exactly when diagrams/NAME.typ exists."""
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pypdf import PdfReader

from manuscript.diagrams import main
from tests.checkout import checkout_env

ROOT = Path(__file__).resolve().parents[2]
LIBRARIES = {"style.typ"}
DIAGRAMS = sorted(p for p in (ROOT / "diagrams").glob("*.typ")
                  if p.name not in LIBRARIES and not p.name.startswith("_"))
A4_TEXT_WIDTH_PT = 442 + 8  # templates/thesis.typ: 21 cm less 2 x 2.7 cm, plus the 4 pt margins

BROKEN = '#import "style.typ": *\n#show: diagram\n#rect(fill: no-such-colour)\n'


def font_names(reader: PdfReader) -> set[str]:
    fonts = reader.pages[0]["/Resources"].get("/Font", {})
    return {str(font.get_object()["/BaseFont"]) for font in fonts.values()}


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A scratch project with the shared style, as the working directory."""
    (tmp_path / "diagrams").mkdir()
    shutil.copy(ROOT / "diagrams" / "style.typ", tmp_path / "diagrams" / "style.typ")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_five_thesis_diagrams_are_here():
    names = {p.stem for p in DIAGRAMS}
    assert {"compression_landscape", "deep_compression_pipeline", "pruning_granularity",
            "imp_loop", "supermask_criteria"} <= names


@pytest.mark.parametrize("source", DIAGRAMS, ids=lambda p: p.stem)
def test_each_diagram_compiles_to_one_page_in_the_thesis_fonts(source, tmp_path, capsys):
    out = tmp_path / "figures" / f"{source.stem}.pdf"
    assert main([str(source), str(out)]) == 0
    assert "warning" not in capsys.readouterr().err
    reader = PdfReader(out)
    assert len(reader.pages) == 1
    width = float(reader.pages[0].mediabox.width)
    assert 100 < width <= A4_TEXT_WIDTH_PT, f"{source.name} is {width:.0f} pt wide"
    assert any("Libertinus" in name for name in font_names(reader))
    assert not reader.metadata or "/CreationDate" not in reader.metadata


def test_a_broken_source_fails_with_one_located_line_and_leaves_no_file(workdir, capsys):
    (workdir / "diagrams" / "broken.typ").write_text(BROKEN, encoding="utf-8")
    assert main(["diagrams/broken.typ", "figures/broken.pdf"]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: diagrams/broken.typ:3: ")
    assert "no-such-colour" in lines[0]
    assert list((workdir / "figures").iterdir()) == []  # no PDF, no temporary file


def test_a_failed_compile_keeps_the_last_good_figure(workdir):
    source = workdir / "diagrams" / "box.typ"
    source.write_text('#import "style.typ": *\n#show: diagram\n#rect[fine]\n', encoding="utf-8")
    assert main(["diagrams/box.typ", "figures/box.pdf"]) == 0
    good = (workdir / "figures" / "box.pdf").read_bytes()
    source.write_text(BROKEN, encoding="utf-8")
    assert main(["diagrams/box.typ", "figures/box.pdf"]) == 1
    assert (workdir / "figures" / "box.pdf").read_bytes() == good
    assert [p.name for p in (workdir / "figures").iterdir()] == ["box.pdf"]


def test_an_error_in_the_shared_style_names_the_style(workdir, capsys):
    style = workdir / "diagrams" / "style.typ"
    style.write_text(style.read_text(encoding="utf-8") + "\n#let broken = 1 + \"a\"\n",
                     encoding="utf-8")
    line = len(style.read_text(encoding="utf-8").splitlines())
    (workdir / "diagrams" / "ok.typ").write_text('#import "style.typ": *\n#show: diagram\nok\n',
                                                encoding="utf-8")
    assert main(["diagrams/ok.typ", "figures/ok.pdf"]) == 1
    assert capsys.readouterr().err.startswith(f"error: diagrams/style.typ:{line}: ")


def test_a_missing_source_is_named(workdir, capsys):
    assert main(["diagrams/nothing.typ", "figures/nothing.pdf"]) == 1
    assert capsys.readouterr().err.strip() == \
        "error: diagrams/nothing.typ: diagram source does not exist"


def test_the_same_source_gives_the_same_bytes(workdir):
    # Today's date and the default document date would differ between the two compiles were
    # the timestamp not pinned; the second compile starts in a later second.
    (workdir / "diagrams" / "dated.typ").write_text(
        '#set page(width: auto, height: auto)\n#datetime.today().display()\n', encoding="utf-8")
    assert main(["diagrams/dated.typ", "figures/first.pdf"]) == 0
    time.sleep(1.05)
    assert main(["diagrams/dated.typ", "figures/second.pdf"]) == 0
    first = (workdir / "figures" / "first.pdf").read_bytes()
    assert first == (workdir / "figures" / "second.pdf").read_bytes()


def test_committed_diagrams_compile_to_identical_bytes(tmp_path):
    source = ROOT / "diagrams" / "imp_loop.typ"
    outputs = [tmp_path / "a.pdf", tmp_path / "b.pdf"]
    for out in outputs:
        assert main([str(source), str(out)]) == 0
    assert outputs[0].read_bytes() == outputs[1].read_bytes()


COPIED = ["Snakefile", "rules", "config", "profiles", "templates", "csl", "metadata.yaml",
          "references.bib", "diagrams"]
CHAPTER = "# Loop {#sec:loop}\n\n![The loop.](figures/imp_loop.pdf){#fig:loop}\n\nSee @fig:loop.\n"


def test_the_workflow_draws_a_referenced_diagram_with_the_diagram_rule(tmp_path):
    for name in COPIED:
        source = ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, tmp_path / name)
    (tmp_path / "chapters").mkdir()
    (tmp_path / "chapters" / "01-loop.md").write_text(CHAPTER, encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "snakemake", "-n", "thesis.pdf"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300, env=checkout_env())
    assert run.returncode == 0, run.stderr[-3000:]
    log = run.stdout + run.stderr
    assert "rule diagram:" in log and "wildcards: name=imp_loop" in log
    assert "rule figure:" not in log and "rule trial:" not in log
