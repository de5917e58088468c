"""Fixtures for the document room: a tiny project on disk and documents parsed by real pandoc."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest


ROOT = Path(__file__).resolve().parents[2]

TINY_BIB = """\
@inproceedings{frankle2019lottery,
  title = {The Lottery Ticket Hypothesis},
  author = {Frankle, Jonathan and Carbin, Michael},
  booktitle = {ICLR},
  year = {2019},
  eprint = {1803.03635},
  archiveprefix = {arXiv}
}

@article{doi2020only,
  title = {An Article With Only a {DOI}},
  author = {Doe, Jane},
  journal = {Journal of Tests},
  year = {2020},
  doi = {10.1000/xyz-123}
}

@misc{url2021only,
  title = {A Web Page},
  author = {Roe, Richard},
  year = {2021},
  url = {https://example.org/page}
}
"""

SUMMARY = {
    "experiment": "toy",
    "dense": {"test_acc": {"mean": 0.7312, "std": 0.0123}},
    "methods": {"imp": {"rounds": [{"round": 0, "density": 1.0}, {"round": 1, "density": 0.8}]}},
    "provenance": {"experiment": "toy", "rule": "aggregate", "config_hash": "sha256:" + "ab" * 32,
                   "seeds": [0, 1], "code_commit": "0123456789abcdef", "code_dirty": True,
                   "device": "cpu", "date": "2026-11-21T10:00:00+00:00"},
}


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A minimal thesis project in a temporary directory, which becomes the working directory."""
    (tmp_path / "references.bib").write_text(TINY_BIB, encoding="utf-8")
    results = tmp_path / "results" / "toy"
    results.mkdir(parents=True)
    (results / "summary.json").write_text(json.dumps(SUMMARY), encoding="utf-8")
    (results / "rounds.csv").write_text(
        "method,seed,round,density,test_acc\nimp,0,0,1.0,0.70\nimp,1,0,1.0,0.72\n"
        "imp,0,1,0.8,0.71\nimp,1,1,0.8,0.75\n", encoding="utf-8")
    for folder in ("templates", "csl"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    (tmp_path / "templates" / "toy_rounds.md.j2").write_text(
        "| Round | Density | Accuracy |\n|---|---|---|\n"
        "{% for round, rows in rows | groupby('round') %}"
        "| {{ round }} | {{ rows[0].density | pct }}% | {{ rows | map(attribute='test_acc') | mean | pct }}% |\n"
        "{% endfor %}", encoding="utf-8")
    (tmp_path / "metadata.yaml").write_text((ROOT / "metadata.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path
