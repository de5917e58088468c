"""The provenance block: exact keys, git commit and dirty flag, graceful outside a checkout."""

from __future__ import annotations

import datetime
import subprocess
from pathlib import Path

import pytest

from experiments import provenance
from experiments.config import config_hash
from experiments.provenance import collect_provenance, git_state

BLOCK_KEYS = ["experiment", "rule", "config_file", "config", "config_hash", "seeds",
              "code_commit", "code_dirty", "torch_version", "device", "date", "wall_time_s"]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=Test", "-c", "user.email=test@example.org",
         "-c", "commit.gpgsign=false", *args],
        check=True, capture_output=True, text=True,
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git checkout with one committed file."""
    git(tmp_path, "init", "-q")
    (tmp_path / "code.py").write_text("x = 1\n")
    git(tmp_path, "add", "code.py")
    git(tmp_path, "commit", "-q", "-m", "first")
    return tmp_path


def test_clean_checkout_gives_head_commit_and_not_dirty(repo: Path):
    assert git_state(repo) == (git(repo, "rev-parse", "HEAD"), False)


def test_untracked_outputs_do_not_make_the_checkout_dirty(repo: Path):
    (repo / "results").mkdir()
    (repo / "results" / "summary.json").write_text("{}")
    (repo / "figure.pdf").write_bytes(b"%PDF")
    assert git_state(repo)[1] is False


def test_modified_tracked_file_makes_the_checkout_dirty(repo: Path):
    (repo / "code.py").write_text("x = 2\n")
    assert git_state(repo)[1] is True


def test_outside_a_checkout_commit_is_unknown(tmp_path: Path):
    plain = tmp_path / "not_a_repo"
    plain.mkdir()
    assert git_state(plain) == ("unknown", None)


def test_block_has_exactly_the_documented_keys_and_values(monkeypatch):
    monkeypatch.setattr(provenance, "git_state", lambda: ("abc123", True))
    cfg = {"seeds": [0, 1], "methods": ["imp"]}
    block = collect_provenance(experiment="tiny", rule="aggregate", config_file="c.yaml",
                               config=cfg, seeds=[0, 1], device="cpu", wall_time_s=1.23456)
    assert list(block) == BLOCK_KEYS
    assert block["config_hash"] == config_hash(cfg)
    assert block["config_hash"].startswith("sha256:")
    assert (block["code_commit"], block["code_dirty"]) == ("abc123", True)
    assert block["seeds"] == [0, 1] and block["device"] == "cpu"
    assert block["wall_time_s"] == 1.235


def test_date_is_utc_iso_to_the_second_and_torch_version_is_installed_one():
    block = collect_provenance(experiment="e", rule="figure", config_file="c.yaml", config={},
                               seeds=[3], device="cuda")
    date = datetime.datetime.fromisoformat(block["date"])
    assert date.utcoffset() == datetime.timedelta(0) and date.microsecond == 0
    assert abs(datetime.datetime.now(datetime.timezone.utc) - date).total_seconds() < 60
    import torch

    assert block["torch_version"] == torch.__version__
    assert block["wall_time_s"] is None


def test_this_checkout_reports_its_own_head():
    commit, dirty = git_state()
    root = Path(provenance.__file__).resolve().parent.parent
    assert commit == git(root, "rev-parse", "HEAD")
    assert isinstance(dirty, bool)
