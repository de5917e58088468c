"""Atomic file writes: every output is written to a temporary file in the same directory and then
moved into place with ``os.replace``, so a reader (or a rerun after a crash) sees either the old
file or the complete new one, never a half-written file.

A write that fails (permission denied, a full disk) removes its temporary file and raises an
``OSError`` whose ``filename`` is the output it was writing, so that a command line can report
``PATH: reason``. A process killed outright leaves its temporary file behind; the next write of
the same output removes it (``sweep``). Temporary names carry the writer's host and process id,
so that the sweep spares a file another writer is still writing: trials that start together
all generate the same MNIST-1D cache, possibly on several nodes of a shared filesystem.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import socket
import tempfile
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

# mkstemp's random part: 8 characters from this alphabet (tempfile._RandomNameSequence).
_TEMP_PART = r"[a-z0-9_]{8}"


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically, creating parent directories. Returns the path."""
    return write_all([(path, data)])[0]


def write_all(outputs: Sequence[tuple[str | os.PathLike, bytes]]) -> list[Path]:
    """Write several files all or nothing: every temporary file is written before any is moved
    into place, so a full disk or a refused permission leaves every old file as it was."""
    staged: list[tuple[str, Path]] = []
    try:
        for path, data in outputs:
            target = Path(path)
            staged.append((_stage(target, data), target))
        for tmp_name, target in staged:
            _named(os.replace, target, tmp_name, target)
    finally:
        # Also on KeyboardInterrupt: never leave temporary files behind.
        for tmp_name, _ in staged:
            Path(tmp_name).unlink(missing_ok=True)
    return [target for _, target in staged]


def _stage(target: Path, data: bytes) -> str:
    """A complete temporary copy of ``data`` beside ``target``; its name."""
    _named(target.parent.mkdir, target, parents=True, exist_ok=True)
    sweep(target)
    # The temporary file lives in the target's directory so os.replace never crosses filesystems.
    fd, tmp_name = _named(tempfile.mkstemp, target, prefix=f".{target.name}.{_writer()}.",
                          suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            _named(handle.write, target, data)
            _named(handle.flush, target)
            _named(os.fsync, target, handle.fileno())
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return tmp_name


def _named(call, target: Path, *args, **kwargs):
    """``call(*args, **kwargs)``; an OSError it raises names ``target`` (a write to a full disk
    names no file at all, and a temporary name would mean nothing to the user)."""
    try:
        return call(*args, **kwargs)
    except OSError as err:
        if err.filename is not None and not str(err.filename).endswith(".tmp"):
            raise  # already names the file at fault (e.g. a parent folder that cannot be made)
        raise OSError(err.errno, err.strerror or str(err), str(target)) from None


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname())


def _writer() -> str:
    return f"{_host()}-{os.getpid()}"


def sweep(target: Path) -> None:
    """Remove temporary files that a killed earlier write of ``target`` left behind: those of a
    process of this host that no longer runs (and the unsigned names of earlier versions)."""
    if not target.parent.is_dir():
        return
    name = re.escape(target.name)
    signed = re.compile(rf"\.{name}\.([A-Za-z0-9_-]+)-(\d+)\.{_TEMP_PART}\.tmp")
    unsigned = re.compile(rf"\.{name}\.{_TEMP_PART}\.tmp")
    for leftover in target.parent.iterdir():
        writer = signed.fullmatch(leftover.name)
        if writer and writer[1] == _host() and not _running(int(writer[2])):
            leftover.unlink(missing_ok=True)
        elif not writer and unsigned.fullmatch(leftover.name):
            leftover.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    return write_bytes(path, text.encode("utf-8"))


def json_bytes(obj: Any) -> bytes:
    """``obj`` as indented, key-sorted JSON (stable bytes for equal objects)."""
    return (json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Write ``obj`` as indented, key-sorted JSON, atomically."""
    return write_bytes(path, json_bytes(obj))


def csv_bytes(rows: Iterable[Mapping[str, Any]], fieldnames: Sequence[str]) -> bytes:
    """``rows`` (dicts keyed by ``fieldnames``) as CSV with a header.

    Floats are written with ``repr`` (shortest round-trip form) so reading them back is exact.
    """
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(fieldnames), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(dict(row))
    return buffer.getvalue().encode("utf-8")


def write_csv(
    path: str | os.PathLike, rows: Iterable[Mapping[str, Any]], fieldnames: Sequence[str]
) -> Path:
    """Write ``rows`` as CSV with a header (see ``csv_bytes``), atomically."""
    return write_bytes(path, csv_bytes(rows, fieldnames))


def write_torch(path: str | os.PathLike, obj: Any) -> Path:
    """``torch.save`` ``obj`` to ``path`` atomically."""
    import torch  # late: aggregation and figures use this module and need not pay for torch

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return write_bytes(path, buffer.getvalue())
