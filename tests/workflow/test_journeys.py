"""User journeys, driven through the commands a user types: a forked thesis built from scratch
in a terminal whose input stays open, a failed edit, a kill during typesetting, `--unlock` and a
resumed run, one experiment rerun while a chapter is broken, edits to the code."""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.checkout import checkout_env
from tests.workflow.journeys import fork, in_terminal, kill_when, snakemake

HEAVY_TYPST = """\
# Heavy

```{=typst}
#let n = range(3000000).fold(0, (a, b) => a + b)
#n
```
"""


@pytest.fixture(scope="module")
def forked(tmp_path_factory):
    project = fork(tmp_path_factory.mktemp("fork"))
    status, printed = in_terminal(project, "--cores", "2", "thesis.pdf", timeout=600)
    yield project, status, printed
    subprocess.run([sys.executable, "-m", "manuscript.typst_server", "--stop", "build"],
                   cwd=project, env=checkout_env(), capture_output=True,
                   stdin=subprocess.DEVNULL)


def pdf_text(path: Path) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(path).pages).split())


def test_a_first_build_in_a_terminal_finishes_with_the_forks_own_thesis(forked):
    project, status, printed = forked
    assert status == 0, printed[-3000:]
    # one progress line per finished round reaches the terminal: 2 methods x 2 seeds x 4 rounds
    progress = [line for line in printed.splitlines() if line.startswith("[mini seed ")]
    assert len(progress) == 16 and "left" in progress[-1], printed[-3000:]
    text = pdf_text(project / "thesis.pdf")
    assert "A Forked Thesis" in text and "own table" in text
    assert "Journal of Tiny Models" in text and "Proceedings of Forked Theses" in text
    assert "Winning Tickets" not in text
    assert not (project / "results" / "lth_mnist1d").exists()


def test_a_failed_edit_keeps_the_last_thesis(forked):
    project, _, _ = forked
    chapter, pdf = project / "chapters" / "01-opening.md", project / "thesis.pdf"
    good, before = chapter.read_text(), pdf.read_bytes()
    chapter.write_text(good.replace("@sparrow2031pruning", "@nobody2020"))
    try:
        run = snakemake(project, "--cores", "2", "thesis.pdf")
    finally:
        chapter.write_text(good)
    assert run.returncode != 0
    assert "chapters/01-opening.md:3: unknown citation key 'nobody2020'" in run.stderr
    assert pdf.read_bytes() == before


def test_a_kill_during_typesetting_keeps_the_thesis_and_unlock_resumes(forked):
    project, _, _ = forked
    heavy, pdf = project / "chapters" / "03-heavy.md", project / "thesis.pdf"
    typst_source, before = project / "build" / "thesis.typ", pdf.read_bytes()
    written = typst_source.stat().st_mtime_ns
    heavy.write_text(HEAVY_TYPST)
    kill_when(project, ["--cores", "2", "thesis.pdf"],
              lambda: typst_source.stat().st_mtime_ns != written)
    assert pdf.read_bytes() == before
    heavy.unlink()
    locked = snakemake(project, "--cores", "2", "thesis.pdf")
    assert locked.returncode != 0 and "--unlock" in locked.stdout + locked.stderr
    assert snakemake(project, "--unlock").returncode == 0  # as Snakemake says, no --cores
    resumed = snakemake(project, "--cores", "2", "thesis.pdf")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "Heavy" not in pdf_text(pdf) and "A Forked Thesis" in pdf_text(pdf)
    assert not list((project / "build" / ".staged").glob(".thesis.pdf.*"))


def test_one_experiment_reruns_after_a_kill_while_a_chapter_is_broken(forked):
    project, _, _ = forked
    draft = project / "chapters" / "04-draft.md"
    draft.write_text("# Draft\n\nNot yet: ![later](figures/not_drawn_yet.pdf)\n")
    rows = project / "results" / "mini_b" / "seeds"
    kill_when(project, ["--cores", "2", "results/mini_b/summary.json"],
              lambda: len(list(rows.glob("*/state/rows/*"))) >= 2)
    assert snakemake(project, "--unlock").returncode == 0
    resumed = snakemake(project, "--cores", "2", "results/mini_b/summary.json")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    # mini_b has mini's settings: killed and resumed, it gives mini's rows byte for byte.
    assert (project / "results/mini_b/rounds.csv").read_bytes() == \
        (project / "results/mini/rounds.csv").read_bytes()
    # The README's "from scratch": deleting the experiment's folder retrains it.
    shutil.rmtree(project / "results" / "mini_b")
    scratch = snakemake(project, "--cores", "2", "results/mini_b/summary.json")
    assert scratch.returncode == 0 and "[mini_b seed 1] random round 3/3" in scratch.stderr
    assert (project / "results/mini_b/rounds.csv").read_bytes() == \
        (project / "results/mini/rounds.csv").read_bytes()
    planned = snakemake(project, "-n", "thesis.pdf")
    draft.unlink()
    assert planned.returncode != 0
    assert "error: chapters/04-draft.md:3: figures/not_drawn_yet.pdf is referenced" in planned.stderr


def planned_jobs(project: Path) -> dict[str, int]:
    """What a dry run of thesis.pdf would run: {rule: jobs}, empty when nothing."""
    run = snakemake(project, "-n", "thesis.pdf")
    assert run.returncode == 0, run.stderr[-2000:]
    table = (run.stdout + run.stderr).partition("Job stats:")[2].partition("total")[0]
    return {rule: int(count) for rule, count in re.findall(r"^(\w+)\s+(\d+)$", table, re.M)}


@pytest.mark.parametrize("module, redone", [
    ("experiments/plots/lth.py", {"figure", "publish_figure", "thesis", "publish"}),
    ("manuscript/filters/figures.py", {"thesis", "publish"}),
    ("experiments/training.py", set()),  # trials: their settings hash decides, not their code
])
def test_an_edit_to_the_code_redoes_the_jobs_that_run_it_and_no_trial(forked, module, redone):
    project, _, _ = forked
    assert snakemake(project, "--cores", "2", "thesis.pdf").returncode == 0  # after the tests above
    source = project / module
    code = source.read_text()
    source.write_text(code + "\n# an edit\n")
    try:
        planned = planned_jobs(project)
    finally:
        source.write_text(code)
    assert set(planned) == redone
