"""manuscript.atomic: a file is replaced whole or not at all, and a killed write's leftovers go."""
import pytest

from manuscript import atomic


def test_a_write_removes_the_temporary_file_a_killed_write_left(tmp_path):
    target = tmp_path / "thesis.pdf"
    target.write_bytes(b"old")
    stale = tmp_path / ".thesis.pdf.k1ll3d.tmp"
    stale.write_bytes(b"half a PDF")
    other = tmp_path / ".other.pdf.k1ll3d.tmp"  # another file's: not this write's to remove
    other.write_bytes(b"half")
    atomic.write(target, "new")
    assert target.read_bytes() == b"new" and target.stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.pdf.k1ll3d.tmp", "thesis.pdf"]


def test_a_failed_write_keeps_the_old_file_and_leaves_nothing(tmp_path):
    target = tmp_path / "build" / "thesis.typ"
    target.parent.mkdir()
    target.write_text("good")
    with pytest.raises(RuntimeError), atomic.replacing(target) as temporary:
        open(temporary, "w").write("half")
        raise RuntimeError("killed midway")
    assert target.read_text() == "good"
    assert [p.name for p in target.parent.iterdir()] == ["thesis.typ"]
