"""The real workflow on a tiny config: Snakemake runs the experiment, draws the figure and
typesets a one-chapter thesis; editing prose then reruns the typesetting alone."""
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.checkout import checkout_env

ROOT = Path(__file__).resolve().parents[2]
COPIED = ["Snakefile", "rules", "report", "config", "profiles", "templates", "csl", "metadata.yaml", "references.bib"]

CHAPTER = """\
# Results {#sec:results}

A tiny ticket experiment [@frankle2019lottery].

![Tiny accuracy](figures/tiny_accuracy.pdf){#fig:tiny}

::: {#tbl:tiny .results-table data=results/tiny_mnist1d/rounds.csv template=lth_rounds.md.j2}
Tiny rounds.
:::

@fig:tiny shows it; the dense net scores `tiny_mnist1d.dense.test_acc.mean`{.result fmt=".3f"}.
"""


def snakemake(project: Path, *args: str) -> subprocess.CompletedProcess:
    # The build compiles in its own process, whatever Typst server may be listening.
    command = [sys.executable, "-m", "snakemake", "--cores", "2", *args, "--config", "device=cpu",
               "typst_server=false", "experiments_file=config/experiments/tiny.yaml"]
    return subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=600,
                          env=checkout_env(), stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    project = tmp_path_factory.mktemp("workflow")
    for name in COPIED:
        source = ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, project / name)
    shutil.copy(ROOT / "tests" / "fixtures" / "tiny.yaml", project / "config" / "experiments")
    (project / "chapters").mkdir()
    (project / "chapters" / "01-results.md").write_text(CHAPTER, encoding="utf-8")
    # The one test chapter cites a few of the thesis's entries: report the rest, don't stop.
    metadata = project / "metadata.yaml"
    metadata.write_text(metadata.read_text().replace("uncited-entries: error",
                                                     "uncited-entries: warn"))
    run = snakemake(project, "thesis.pdf")
    assert run.returncode == 0, run.stderr[-3000:]
    return project, run


def test_thesis_shows_the_workflow_outputs(built):
    project, _ = built
    summary = json.loads((project / "results/tiny_mnist1d/summary.json").read_text())
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(project / "thesis.pdf").pages).split())
    assert f"the dense net scores {summary['dense']['test_acc']['mean']:.3f}" in text
    assert "Figure 1.1 shows it" in text and "Tiny rounds." in text
    assert (project / "figures/tiny_accuracy.provenance.json").is_file()


def test_report_shows_each_figure_with_its_caption_under_its_experiment(built):
    project, _ = built
    run = snakemake(project, "--report", "report.html")
    assert run.returncode == 0, run.stderr[-3000:]
    html = (project / "report.html").read_text(encoding="utf-8")
    categories = json.loads(re.search(r"var categories = (.*?);\s*</script>", html, re.S).group(1))
    shown = {sub: sorted(files) for sub, files in categories["tiny_mnist1d"].items()}
    assert shown == {"Figures": ["figures/tiny_accuracy.pdf"],
                     "Tables": ["results/tiny_mnist1d/rounds.csv"],
                     "Provenance": ["figures/tiny_accuracy.provenance.json",
                                    "results/tiny_mnist1d/summary.json"]}
    # the figure's caption: its name and kind, and the experiment's description from the set
    literal = '<tt class=\\"docutils literal\\">{}</tt>'.format
    assert f"Figure {literal('tiny_accuracy')} (kind {literal('accuracy_vs_density')})" in html
    assert "A few seconds end to end; for tests of the whole workflow." in html


def test_only_referenced_experiments_run(built):
    project, _ = built
    assert not (project / "results" / "lth_mnist1d").exists()


def test_editing_a_sentence_reruns_only_the_thesis(built):
    project, _ = built
    chapter = project / "chapters" / "01-results.md"
    chapter.write_text(chapter.read_text().replace("A tiny ticket", "A very small ticket"))
    before = {p: p.stat().st_mtime_ns for p in (project / "results").rglob("*.csv")}
    run = snakemake(project, "thesis.pdf")
    assert run.returncode == 0, run.stderr[-2000:]
    assert "rule thesis" in run.stderr and "rule trial" not in run.stderr and "rule figure" not in run.stderr
    assert before == {p: p.stat().st_mtime_ns for p in (project / "results").rglob("*.csv")}


def test_unknown_citation_stops_the_workflow_at_the_chapter_line(built):
    project, _ = built
    chapter = project / "chapters" / "01-results.md"
    good = chapter.read_text()
    chapter.write_text(good.replace("@frankle2019lottery", "@nobody2020"))
    try:
        run = snakemake(project, "thesis.pdf")
    finally:
        chapter.write_text(good)
    assert run.returncode != 0
    assert "chapters/01-results.md:3: unknown citation key 'nobody2020'" in run.stderr + run.stdout


def test_unknown_figure_stops_before_any_job(built):
    project, _ = built
    chapter = project / "chapters" / "02-more.md"
    chapter.write_text("# More\n\n![x](figures/never_declared.pdf)\n")
    try:
        run = snakemake(project, "thesis.pdf")
    finally:
        chapter.unlink()
    assert run.returncode != 0
    assert "chapters/02-more.md:3: figures/never_declared.pdf is referenced" in run.stderr + run.stdout
