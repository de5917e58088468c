"""The compile benchmark: the thesis compiled in fresh processes, alone or against another
template, without touching the project's own files."""

from __future__ import annotations

import sys
from pathlib import Path

import pypdf
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))

import compile as compile_benchmark  # noqa: E402

TEMPLATE = "#let thesis(body) = [From the template. #body]\n"
OTHER = "#let thesis(body) = [From the other one. #body]\n"
THESIS = '#import "../templates/thesis.typ": *\n#show: thesis\nThe body.\n'


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "thesis.typ").write_text(TEMPLATE)
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "thesis.typ").write_text(THESIS)
    (tmp_path / "other.typ").write_text(OTHER)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def text_of(pdf: Path) -> str:
    return " ".join(pypdf.PdfReader(pdf).pages[0].extract_text().split())


def test_the_thesis_is_timed_against_the_other_template_and_nothing_is_changed(project, capsys):
    assert compile_benchmark.main(["--repeats", "2", "--against", "other.typ"]) == 0
    medians = [line for line in capsys.readouterr().out.splitlines() if "median" in line]
    assert [line.split(":")[0] for line in medians] == ["thesis", "against other.typ"]
    variants = project / "build" / "bench-compile"
    assert text_of(variants / "thesis.pdf") == "From the template. The body."
    assert text_of(variants / "against.pdf") == "From the other one. The body."
    assert (project / "build" / "thesis.typ").read_text() == THESIS
    assert (project / "templates" / "thesis.typ").read_text() == TEMPLATE


def test_without_a_build_it_says_what_to_run(project):
    (project / "build" / "thesis.typ").unlink()
    with pytest.raises(SystemExit, match="run `snakemake --cores 4 thesis.pdf` first"):
        compile_benchmark.main(["--repeats", "1"])
