"""ticket_anatomy: measurements of imp's saved masks and theta_0, checked against the masks
themselves; its row repeats imp's accuracies; aggregate compares input profiles across seeds."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from experiments.aggregate import profile_correlation
from experiments.config import load_experiment_set
from experiments.methods.anatomy import first_layer, init_statistics, overlap
from experiments.trial import run_trial
from experiments.trial_state import TrialState

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tiny.yaml"
pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def trial(tmp_path_factory):
    cfg = load_experiment_set(FIXTURES)["tiny_anatomy"]
    out = tmp_path_factory.mktemp("anatomy")
    rows = run_trial("tiny_anatomy", cfg, 0, out, device=torch.device("cpu"),
                     data_root=out, log=lambda line: None)
    return rows, TrialState(out / "state")


def row(rows, method, round_index):
    return next(r for r in rows if r["method"] == method and r["round"] == round_index)


def test_row_repeats_imps_accuracy_and_measures_its_mask(trial):
    rows, state = trial
    measured, ticket = row(rows, "ticket_anatomy", 2), row(rows, "imp", 2)
    for key in ("test_acc", "early_stop_iter", "density"):
        assert measured[key] == ticket[key], key
    mask = state.load_mask("imp", 2)
    first = next(iter(mask.values()))
    assert measured["first_density"] == pytest.approx(first.float().mean().item())
    profile = [measured[f"in_pos_{p}"] for p in range(first.shape[1])]
    assert profile == pytest.approx(first.float().mean(dim=0).tolist())
    assert "neighbour_kept" not in row(rows, "ticket_anatomy", 0)  # dense: nothing measured


def test_locality_of_a_banded_mask_is_above_chance_and_of_a_checkerboard_zero():
    positions = torch.arange(8)
    banded = {"w": (positions[None, :] - torch.arange(4)[:, None]).abs() < 2}
    checker = {"w": (positions[None, :] + torch.arange(4)[:, None]) % 2 == 0}
    assert first_layer(banded)["neighbour_kept"] > first_layer(banded)["neighbour_chance"]
    assert first_layer(checker)["neighbour_kept"] == 0.0


def test_overlap_of_a_mask_with_itself_is_one_and_chance_its_density():
    keep = torch.zeros(10, 10, dtype=torch.bool)
    keep[:3] = True
    result = overlap({"w": keep}, {"w": keep})
    assert result == {"oneshot_overlap": 1.0, "overlap_chance": pytest.approx(0.3)}


def test_kept_large_initial_weights_show_as_larger_magnitude_and_signs_are_counted():
    initial = {"w": torch.tensor([[-4.0, 3.0, 0.1, -0.2]])}
    trained = {"w": torch.tensor([[-1.0, 1.0, -1.0, -1.0]])}
    stats = init_statistics({"w": initial["w"].abs() > 1}, initial, trained)
    assert stats["kept_init_mag"] > stats["pruned_init_mag"]
    assert (stats["kept_sign_kept"], stats["pruned_sign_kept"]) == (1.0, 0.5)


def test_profile_correlation_is_one_for_equal_profiles_and_absent_for_flat_ones():
    a = {"in_pos_0": "0.1", "in_pos_1": "0.5", "in_pos_2": "0.9"}
    b = {"in_pos_0": "0.2", "in_pos_1": "0.6", "in_pos_2": "1.0"}
    assert profile_correlation([a, b])["mean"] == pytest.approx(1.0)
    flat = {"in_pos_0": "1", "in_pos_1": "1", "in_pos_2": "1"}
    assert profile_correlation([flat, flat]) is None
    assert profile_correlation([{"test_acc": 0.5}, {"test_acc": 0.6}]) is None
