"""What the readers of dataset files share: fetching missing files, or saying where to put them,
and checking the labels read from a file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from torch import Tensor

from experiments.data.classes import NUM_CLASSES
from experiments.data.errors import DatasetFormatError, DatasetSpecError, DatasetUnavailable


def ensure_files(
    folder: Path, names: tuple[str, ...], spec: dict, download: Callable[[], object], hint: str
) -> None:
    """Download through torchvision when files are missing and the spec allows it; else explain."""
    allow_download = spec.get("download", False)
    if allow_download not in (True, False):
        raise DatasetSpecError(f"dataset: 'download' must be true or false, got {allow_download!r}")
    missing = [name for name in names if not (folder / name).is_file()]
    if missing and allow_download:
        try:
            download()
        except Exception as err:  # torchvision raises RuntimeError, URLError or OSError offline
            reason = " ".join(str(err).split())  # torchvision's messages span several lines
            raise DatasetUnavailable(
                f"{folder}: download failed ({reason}); put the files {', '.join(names)} there"
            ) from err
        missing = [name for name in names if not (folder / name).is_file()]
    if missing:
        raise DatasetUnavailable(
            f"{folder}: missing {', '.join(missing)}; put the files {', '.join(names)} ({hint}) "
            f"in this directory, or set dataset download: true where there is internet"
        )


def check_labels(labels: Tensor, count: int, path: Path) -> None:
    """One label per example, each a class index; errors name the file `path`."""
    if len(labels) != count:
        raise DatasetFormatError(f"{path}: {len(labels)} labels for {count} examples")
    if len(labels) and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise DatasetFormatError(f"{path}: labels outside 0..{NUM_CLASSES - 1}")
