"""The build cache: entries by content hash, unreadable entries count as missing, sweeps."""
from manuscript.cache import Cache, digest, file_digest, key


def test_values_round_trip_and_unknown_keys_are_missing(tmp_path):
    cache = Cache(tmp_path)
    cache.put("kind", digest("a"), {"x": [1, "two"]})
    assert Cache(tmp_path).get("kind", digest("a")) == {"x": [1, "two"]}
    assert Cache(tmp_path).get("kind", digest("b")) is None


def test_an_entry_cut_short_changed_or_of_another_format_is_missing(tmp_path):
    cache = Cache(tmp_path)
    for key in ("k1", "k2", "k3"):
        cache.put("kind", key, {"value": [1, 2, 3]})
    entry = (tmp_path / "kind" / "k1.json").read_bytes()
    (tmp_path / "kind" / "k1.json").write_bytes(entry[:-3])
    (tmp_path / "kind" / "k2.json").write_bytes(entry.replace(b"3", b"4"))
    (tmp_path / "kind" / "k3.json").write_bytes(entry.replace(b"cache 1", b"cache 0"))
    assert [Cache(tmp_path).get("kind", key) for key in ("k1", "k2", "k3")] == [None, None, None]


def test_sweep_keeps_exactly_what_this_build_used(tmp_path):
    Cache(tmp_path).put("kind", "old", 0)
    (tmp_path / "kind" / ".stray.tmp").write_text("half")
    cache = Cache(tmp_path)
    cache.put("kind", "new", 1)
    cache.put("other", "written", 2)
    assert cache.get("kind", "new") == 1
    cache.sweep()
    assert sorted(p.name for p in tmp_path.glob("*/*")) == ["new.json", "written.json"]


def test_digests_tell_parts_apart(tmp_path):
    assert digest("ab", "c") != digest("a", "bc")
    assert digest(b"x") != digest("x")
    assert file_digest(tmp_path / "missing") is None


def test_a_key_changes_with_the_bytes_of_each_declared_file_and_nothing_else(tmp_path):
    chapter, bib = tmp_path / "01.md", tmp_path / "refs.bib"
    chapter.write_text("Text.")
    first = key("chapter", {"setting": 1}, files=[chapter, bib])  # refs.bib missing: a fact too
    assert key("chapter", {"setting": 1}, files=[bib, chapter]) == first
    bib.write_text("@misc{a,}")
    assert key("chapter", {"setting": 1}, files=[chapter, bib]) != first
    second = key("chapter", {"setting": 1}, files=[chapter, bib])
    chapter.write_text("Text!")
    assert len({first, second, key("chapter", {"setting": 1}, files=[chapter, bib]),
                key("chapter", {"setting": 2}, files=[chapter, bib]),
                key("section", {"setting": 2}, files=[chapter, bib])}) == 5


def test_remember_computes_once_per_key(tmp_path):
    cache, calls = Cache(tmp_path), []

    def compute():
        calls.append(1)
        return ("before", "after")

    assert cache.remember("frame", "k", compute) == ("before", "after")
    assert cache.remember("frame", "k", compute) == ["before", "after"]  # as JSON keeps it
    assert len(calls) == 1
    assert Cache(tmp_path).remember("frame", "k", compute) == ["before", "after"]
    assert len(calls) == 1  # a later build reads it back
