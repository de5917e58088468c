"""A trial's resume state: the files under ``OUT/state`` (see experiments/trial.py), each
written atomically, and the identity that says which trial and settings they belong to."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch

from experiments import atomic
from experiments.config import config_hash, round_settings
from experiments.masks import Mask
from experiments.training import StateDict
from experiments.trials import MissingState


class TrialError(RuntimeError):
    """The trial cannot run as asked (e.g. its state belongs to another config)."""


class TrialState:
    """Files under ``OUT/state``; every write is atomic."""

    def __init__(self, root: Path):
        self.root = root

    def _path(self, folder: str, method: str, round_index: int, suffix: str) -> Path:
        return self.root / folder / f"{method}_round_{round_index:02d}{suffix}"

    def claim(self, identity: dict) -> bool:
        """Make this state belong to the trial ``identity``; True if stale state was discarded.

        State of another experiment or seed is refused (a wrong --out, most likely). State of
        the same trial under other settings or on another device kind is deleted: its rounds
        cannot be reused, and the workflow reruns a trial exactly when its settings changed.
        """
        path = self.root / "trial.json"
        found = _read_json(path) if path.exists() else None
        if found is not None and _owner(found) != _owner(identity):
            raise TrialError(f"{path}: state of trial {_owner(found)}, not {_owner(identity)}; "
                             "use another --out")
        discard = found is not None and found != identity
        if discard:
            shutil.rmtree(self.root)
        if found is None or discard:
            atomic.write_json(path, identity)
        return discard

    def has_row(self, method: str, round_index: int) -> bool:
        return self._path("rows", method, round_index, ".json").exists()

    def load_row(self, method: str, round_index: int) -> dict:
        path = self._path("rows", method, round_index, ".json")
        if not path.exists():
            raise MissingState(f"{path}: missing trial state (round not run yet)")
        return _read_json(path)

    def save_row(self, method: str, round_index: int, row: dict) -> None:
        atomic.write_json(self._path("rows", method, round_index, ".json"), row)

    def has_mask(self, method: str, round_index: int) -> bool:
        return self._path("masks", method, round_index, ".pt").exists()

    def load_mask(self, method: str, round_index: int) -> Mask:
        return load_torch(self._path("masks", method, round_index, ".pt"))

    def save_mask(self, method: str, round_index: int, mask: Mask) -> None:
        atomic.write_torch(self._path("masks", method, round_index, ".pt"), mask)

    def load_weights(self, method: str, round_index: int) -> StateDict:
        return load_torch(self._path("weights", method, round_index, "_final.pt"))

    def save_weights(self, method: str, round_index: int, weights: StateDict) -> None:
        atomic.write_torch(self._path("weights", method, round_index, "_final.pt"), weights)

    def delete_weights(self, method: str, round_index: int) -> None:
        self._path("weights", method, round_index, "_final.pt").unlink(missing_ok=True)

    def load_rewind_weights(self) -> StateDict:
        return load_torch(self.root / "weights" / "rewind.pt")

    def save_rewind_weights(self, weights: StateDict) -> None:
        atomic.write_torch(self.root / "weights" / "rewind.pt", weights)


def _owner(identity: dict) -> tuple:
    return identity.get("experiment"), identity.get("seed")


def state_identity(experiment: str, cfg: dict, seed: int, device: torch.device) -> dict:
    """What a trial's finished rounds depend on (beyond the code): experiment, seed, the result
    settings and the device kind. Methods, seeds and reporting keys may change freely."""
    settings = round_settings(cfg)
    return {"experiment": experiment, "seed": seed, "settings_hash": config_hash(settings),
            "device": device.type}


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise TrialError(f"{path}: unreadable trial state ({err}); delete it to redo") from None


def load_torch(path: Path) -> dict:
    if not path.exists():
        raise MissingState(f"{path}: missing trial state (was a method run before its "
                           "requirement?)")
    return torch.load(path, map_location="cpu", weights_only=True)
