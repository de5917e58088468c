"""The three ways loading a dataset can fail, each reported in one line by the trial."""

from __future__ import annotations


class DatasetUnavailable(RuntimeError):
    """The dataset's files are missing and could not (or may not) be downloaded."""


class DatasetFormatError(ValueError):
    """A dataset or cache file exists but does not hold what its format promises."""


class DatasetSpecError(ValueError):
    """The experiment config's ``dataset`` mapping asks for something impossible."""
