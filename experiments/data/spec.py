"""Checks of the experiment config's ``dataset`` mapping (the *spec*) shared by every loader."""

from __future__ import annotations

from collections.abc import Collection

from experiments.data.errors import DatasetSpecError


def common_options(spec: dict, known_names: Collection[str]) -> tuple[str, int, int, bool]:
    """Check the keys every dataset shares (name, validation, split_seed); read augment."""
    name = spec.get("name")
    if name not in known_names:
        raise DatasetSpecError(
            f"dataset: unknown name {name!r}; known: {', '.join(sorted(known_names))}"
        )
    validation = int_option(spec, "validation", None, minimum=1)
    split_seed = int_option(spec, "split_seed", 0, minimum=0)
    # Whether augmentation applies to this dataset is checked once, when the experiment set
    # loads (experiments/config.py, at the config's line).
    return name, validation, split_seed, bool(spec.get("augment", False))


def int_option(spec: dict, key: str, default: int | None, minimum: int) -> int:
    """``spec[key]`` (or `default`), checked to be an int of at least `minimum`."""
    value = spec.get(key, default)
    if value is None:
        raise DatasetSpecError(f"dataset: missing required key '{key}'")
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise DatasetSpecError(f"dataset: '{key}' must be an int >= {minimum}, got {value!r}")
    return value
