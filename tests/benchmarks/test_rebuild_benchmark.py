"""The rebuild benchmark on a one-rule Snakemake project: timed one-sentence edits, alone and
against another checkout, with every chapter restored and every thesis rebuilt afterwards."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))

import rebuild  # noqa: E402

SNAKEFILE = """rule thesis:
    input: "chapters/01-introduction.md"
    output: "thesis.pdf"
    shell: "cat {input} > {output}"
"""
CHAPTER = "# Introduction\n\nA first paragraph of prose.\n\nAnother one.\n"


def checkout(folder: Path) -> Path:
    """A project whose 'thesis' is its chapter, up to date (written after the chapter, as its
    rule would: a Snakemake run per checkout would double the test's time)."""
    (folder / "chapters").mkdir(parents=True)
    (folder / "Snakefile").write_text(SNAKEFILE)
    (folder / "chapters" / "01-introduction.md").write_text(CHAPTER)
    (folder / "thesis.pdf").write_text(CHAPTER)
    return folder


@pytest.fixture
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(checkout(tmp_path / "here"))
    return tmp_path / "here"


def test_a_checkout_is_timed_against_another_and_both_are_left_as_they_were(here, tmp_path, capsys):
    other = checkout(tmp_path / "other")
    assert rebuild.main(["--repeats", "1", "--against", str(other)]) == 0
    out = capsys.readouterr().out
    assert [line.split(":")[0] for line in out.splitlines() if "median" in line] == [
        "text-only rebuild in .", f"text-only rebuild in {other}", f"difference, . minus {other}"]
    for root in (here, other):
        assert (root / "chapters" / "01-introduction.md").read_text() == CHAPTER
        assert (root / "thesis.pdf").read_text() == CHAPTER  # rebuilt from the restored chapter


def test_the_other_checkout_must_be_up_to_date(here, tmp_path):
    other = checkout(tmp_path / "other")
    chapter = other / "chapters" / "01-introduction.md"
    chapter.write_text(CHAPTER + "\nA paragraph not yet built.\n")
    with pytest.raises(SystemExit, match=f"not up to date in {other}"):
        rebuild.main(["--repeats", "1", "--against", str(other)])
    assert chapter.read_text().endswith("not yet built.\n")  # nothing edited, nothing built
    assert (other / "thesis.pdf").read_text() == CHAPTER


def test_against_a_folder_that_is_no_checkout_is_refused(here, tmp_path, capsys):
    with pytest.raises(SystemExit):
        rebuild.main(["--against", str(tmp_path)])
    assert "not a checkout of the project" in capsys.readouterr().err


def test_the_paired_difference_and_its_interval():
    assert rebuild.paired_difference([3.0, 3.5, 4.0], [1.0, 1.5, 2.0]) == (2.0, 2.0, 2.0)
    middle, low, high = rebuild.paired_difference([2.0, 2.4, 2.1, 2.9, 2.2], [2.0, 2.0, 2.0, 2.0, 2.0])
    assert middle == pytest.approx(0.2) and low <= middle <= high
    assert (low, high) == rebuild.paired_difference([2.0, 2.4, 2.1, 2.9, 2.2], [2.0] * 5)[1:]  # seeded


def test_a_failed_build_ends_it_with_every_chapter_restored(here, tmp_path):
    other = checkout(tmp_path / "other")
    # This checkout builds only an edited chapter (the benchmark's words start "indeed"), so its
    # rebuild after the restore fails, before the other checkout's would run.
    needs_edit = SNAKEFILE.replace('shell: "cat', 'shell: "grep -q indeed {input} && cat')
    (here / "Snakefile").write_text(needs_edit)
    with pytest.raises(SystemExit, match="snakemake failed"):
        rebuild.main(["--repeats", "1", "--against", str(other)])
    for root in (here, other):
        assert (root / "chapters" / "01-introduction.md").read_text() == CHAPTER
