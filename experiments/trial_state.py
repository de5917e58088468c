"""A trial's resume state: the files under ``OUT/state`` (see experiments/trial.py), each
written atomically, and the identity that says which trial and settings they belong to."""

from __future__ import annotations

import json
import pickle
import re
import shutil
from pathlib import Path

import torch

from experiments import atomic
from experiments.config import config_hash, round_settings
from experiments.masks import Mask
from experiments.training import StateDict

# Which round writes a state file: METHOD_round_RR.json / .pt / _final.pt name it; theta_k
# (weights/rewind.pt) is saved by imp's round 0 (experiments/methods/imp.py).
_ROUND_FILE = re.compile(r"(?P<method>.+)_round_(?P<round>\d+)(?:\.json|\.pt|_final\.pt)")
REWIND_PRODUCER = ("imp", 0)


class MissingState(RuntimeError):
    """A round needs a trial-state file that no finished round has written (yet); ``path`` is
    that file when known. The scheduler (experiments/trials.py) waits or redoes a round."""

    def __init__(self, message: str, path: Path | None = None):
        super().__init__(message)
        self.path = path


class CorruptState(MissingState):
    """A trial-state file could not be read; it has been deleted, so that whatever writes it
    (the round itself, or the finished round that wrote it) writes it again."""


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
        found = _read_identity(path) if path.exists() else None
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
            raise MissingState(f"{path}: missing trial state (round not run yet)", path)
        return _read_json(path)

    def delete_row(self, method: str, round_index: int) -> None:
        self._path("rows", method, round_index, ".json").unlink(missing_ok=True)

    def discard_unreadable_rows(self) -> list[tuple[str, int, str]]:
        """Delete every row file that cannot be read, so that its round is redone; (method,
        round, why) of each. Rows are small: reading them all at the start is cheap, and a row
        that nothing reads until the trial ends would otherwise stop it there."""
        discarded = []
        for path in sorted((self.root / "rows").glob("*.json")):
            try:
                _read_json(path)
            except CorruptState as err:
                discarded.append((*self.producer(path), str(err)))
        return discarded

    def producer(self, path: Path) -> tuple[str, int] | None:
        """(method, round) of the round that writes ``path``; None for theta_0 and trial.json."""
        if path == self.root / "weights" / "rewind.pt":
            return REWIND_PRODUCER
        match = _ROUND_FILE.fullmatch(path.name)
        return (match["method"], int(match["round"])) if match else None

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


def _read_identity(path: Path) -> dict:
    """trial.json. Unreadable, it cannot say whose state the folder holds, so it is kept and
    nothing is deleted: the user decides."""
    try:
        return _read_json(path, discard=False)
    except CorruptState as err:
        raise TrialError(f"{err}; to redo this trial from scratch: rm -r '{path.parent}' and "
                         "rerun the same command") from None


def _read_json(path: Path, discard: bool = True) -> dict:
    """A JSON state file (an OSError such as permission denied propagates as it is)."""
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(found, dict):
            raise ValueError(f"a JSON {type(found).__name__}, not an object")
        return found
    except (ValueError, UnicodeDecodeError) as err:
        raise _corrupt(path, err, discard) from None


def load_torch(path: Path) -> dict:
    if not path.exists():
        raise MissingState(f"{path}: missing trial state (was a method run before its "
                           "requirement?)", path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, ValueError, pickle.UnpicklingError) as err:
        raise _corrupt(path, err) from None


def _corrupt(path: Path, err: Exception, discard: bool = True) -> CorruptState:
    """CorruptState for ``path``, with the file deleted unless asked not to (CorruptState)."""
    # torch's messages run on over several sentences; the first says what is wrong.
    reason = " ".join(str(err).split()).split(". ")[0] or type(err).__name__
    if discard:
        path.unlink(missing_ok=True)
    return CorruptState(f"{path}: unreadable trial state ({reason})", path)
