"""Writing a file so that a reader finds the old version or the new one, never half of one.

Every file the document build writes (the PDF, build/thesis.typ, a diagram, a cache entry) is
first written to a temporary file beside it, named ``.NAME.RANDOM.tmp``, and renamed onto
NAME: a rename within a folder is atomic. A build killed in between leaves its temporary file
behind; the next write of the same NAME removes it. That is safe because only one writer of a
NAME runs at a time where it matters: Snakemake lets one job write an output, and two writers
of one cache entry write the same bytes (its name is their hash), so the loser's rename fails
and the cache takes that as a missed write.
"""
from __future__ import annotations

import glob
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replacing(path, mode: int = 0o644):
    """A temporary path beside `path`, renamed onto it when the block ends without an error and
    removed otherwise. `mode`: mkstemp makes files private, and what we write is meant to be read."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sweep(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        yield temporary
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def write(path, data: bytes | str) -> None:
    """Write `data` (text as UTF-8) to `path` atomically. A full disk raises an OSError that
    names `path` (the write itself names no file)."""
    data = data.encode("utf-8") if isinstance(data, str) else data
    try:
        with replacing(path) as temporary, open(temporary, "wb") as out:
            out.write(data)
    except OSError as error:
        if error.filename is None:
            raise OSError(error.errno, error.strerror or str(error), str(path)) from None
        raise


def sweep(path) -> None:
    """Remove the temporary files that writes of `path` killed midway left behind."""
    path = Path(path)
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        try:
            stale.unlink()
        except OSError:
            pass  # gone already, or not ours to remove: the write goes ahead either way
