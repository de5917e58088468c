"""Each of Zhou et al.'s criteria keeps the weights it should on a hand-made layer."""

import pytest
import torch

from experiments.seeding import generator
from experiments.supermasks.criteria import CRITERIA, criterion_mask, keep_highest

# Six weights (initial, final) built so that each criterion's top two are distinct and known.
W_INIT = torch.tensor([0.1, -0.9, 0.5, 0.05, -0.2, 0.8])
W_FINAL = torch.tensor([0.9, -0.1, 0.6, -0.7, -0.05, 0.85])
EXPECTED_TOP_TWO = {
    "large_final": {0, 5},  # |w_f| = .9, .85
    "small_final": {4, 1},  # |w_f| = .05, .1
    "large_init": {1, 5},  # |w_i| = .9, .8
    "large_init_large_final": {5, 2},  # both large
    "magnitude_increase": {0, 3},  # |w_f| - |w_i| = .8, .65
    "movement": {0, 1},  # |w_f - w_i| = .8, .8 (then .75 for index 3)
}


@pytest.mark.parametrize("criterion", sorted(EXPECTED_TOP_TWO))
def test_each_criterion_keeps_the_weights_it_scores_highest(criterion):
    mask = criterion_mask(criterion, {"w": W_INIT}, {"w": W_FINAL}, {"w": 2}, generator(0))
    assert set(mask["w"].nonzero().flatten().tolist()) == EXPECTED_TOP_TWO[criterion]


def test_random_keeps_the_count_and_repeats_with_the_seed():
    first = criterion_mask("random", {"w": W_INIT}, {"w": W_FINAL}, {"w": 3}, generator(7))
    again = criterion_mask("random", {"w": W_INIT}, {"w": W_FINAL}, {"w": 3}, generator(7))
    assert int(first["w"].sum()) == 3 and torch.equal(first["w"], again["w"])


def test_ties_keep_the_lower_index():
    assert keep_highest(torch.tensor([1.0, 2.0, 2.0, 2.0]), 2).tolist() == [False, True, True, False]


def test_unknown_criterion_and_impossible_count_are_refused():
    with pytest.raises(ValueError, match="unknown mask criterion"):
        criterion_mask("largest", {"w": W_INIT}, {"w": W_FINAL}, {"w": 2}, generator(0))
    with pytest.raises(ValueError, match="cannot keep 7 of 6"):
        keep_highest(W_FINAL, 7)


def test_every_registered_criterion_is_tested():
    assert set(CRITERIA) == set(EXPECTED_TOP_TWO) | {"random"}
