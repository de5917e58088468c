"""Re-initialisations of a ticket keep exactly the property of theta_0 they are named for."""

import torch

from experiments.methods.init_variants import reshuffled, signed_constant
from experiments.methods.untrained import masked_weights
from experiments.seeding import generator

INITIAL = torch.tensor([[0.3, -0.7, 0.2], [-0.1, 0.5, -0.4]])
KEEP = torch.tensor([[True, True, False], [False, True, True]])


def test_reshuffle_permutes_the_kept_values_and_leaves_the_rest():
    shuffled = reshuffled(INITIAL, KEEP, generator(3))
    assert sorted(shuffled[KEEP].tolist()) == sorted(INITIAL[KEEP].tolist())
    assert torch.equal(shuffled[~KEEP], INITIAL[~KEEP])
    assert not torch.equal(shuffled, INITIAL)  # seed 3 moves something


def test_signed_constant_keeps_signs_and_drops_magnitudes():
    constant = signed_constant(INITIAL, KEEP, rescale=False)
    assert torch.equal(torch.sign(constant), torch.sign(INITIAL))
    assert torch.allclose(constant.abs(), INITIAL.std().expand(2, 3))


def test_rescaled_signed_constant_grows_by_size_over_kept():
    plain = signed_constant(INITIAL, KEEP, rescale=False)
    assert torch.allclose(signed_constant(INITIAL, KEEP, rescale=True), plain * 6 / 4)


def test_masked_weights_zero_the_pruned_and_rescale_the_kept():
    weights = masked_weights({"w": INITIAL, "b": torch.ones(2)}, {"w": KEEP}, rescale=True)
    assert torch.equal(weights["w"][~KEEP], torch.zeros(2))
    assert torch.allclose(weights["w"][KEEP], INITIAL[KEEP] * 1.5)
    assert torch.equal(weights["b"], torch.ones(2))
