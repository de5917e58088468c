"""The build runs the pandoc pinned with pypandoc-binary, whatever else is on PATH."""
import os
import stat
import subprocess
from importlib.util import find_spec
from pathlib import Path

from manuscript import pandoc


def test_the_bundled_pandoc_is_used_even_with_a_newer_one_on_path(tmp_path, monkeypatch):
    newer = tmp_path / "pandoc"
    newer.write_text("#!/bin/sh\necho 'pandoc 99.0'\n")
    newer.chmod(newer.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    pandoc.pandoc_path.cache_clear()
    try:
        found = Path(pandoc.pandoc_path())
    finally:
        pandoc.pandoc_path.cache_clear()
    assert found.parent == Path(find_spec("pypandoc").submodule_search_locations[0]) / "files"
    version = subprocess.run([str(found), "--version"], capture_output=True, text=True,
                             stdin=subprocess.DEVNULL, check=True).stdout
    assert version.startswith("pandoc 3.")
