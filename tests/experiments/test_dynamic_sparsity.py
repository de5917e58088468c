"""Early-bird tickets, RigL and static sparse training: the mask distance and the draw point,
ERK counts, RigL's schedule and drop/grow, the trainer's mask replacement, and tiny trials that
repeat bit for bit, stacked or one network at a time."""

from __future__ import annotations

import math

import pytest
import torch

from experiments.config import load_experiment_set
from experiments.dynamic_sparsity import (RigLUpdate, drop_and_grow, drop_fraction, erk_counts,
                                          erk_random_mask, rigl_cost)
from experiments.methods.early_bird import early_bird_search, mask_distance, pack, unpack
from experiments.seeding import generator
from experiments.training import replace_mask
from experiments.trial import run_trial
from experiments.trial_state import TrialState
from tests.experiments.threads import one_torch_thread

pytestmark = pytest.mark.usefixtures("one_thread")

TINY = """\
experiments:
  tiny_dynamic:
    dataset: {name: mnist1d, validation: 100, num_samples: 600}
    model: {name: mlp, hidden: [16]}
    training: {optimizer: adam, lr: 0.01, batch_size: 50, iterations: 40, eval_every: 10}
    pruning: {rates: {linear: 0.5, output: 0.2}, rounds: 2}
    methods: [imp, early_bird, rigl, static_sparse]
    early_bird: {check_every: 4, queue: 3, threshold: 0.2}
    rigl: {update_every: 5, drop_fraction: 0.3, end_fraction: 0.75}
    seeds: [0]
"""


def masks(*rows: str) -> dict:
    return {"a": torch.tensor([[c == "1" for c in row] for row in rows])}


def test_mask_distance_is_the_share_of_weights_the_masks_disagree_on():
    a = {"x": torch.tensor([True, True, False, False]), "y": torch.tensor([[True, False]])}
    b = {"x": torch.tensor([True, False, True, False]), "y": torch.tensor([[True, False]])}
    assert mask_distance(a, b) == pytest.approx(2 / 6)
    assert mask_distance(a, a) == 0.0
    flipped = {name: ~keep for name, keep in a.items()}
    assert mask_distance(a, flipped) == 1.0


def test_early_bird_is_drawn_once_the_fifo_is_full_and_settled():
    # 10 weights; each checkpoint flips the given number of further positions (cyclically).
    sequence, current, position = [], torch.zeros(10, dtype=torch.bool), 0
    for step, flips in zip(range(10, 90, 10), [0, 5, 3, 1, 0, 0, 4, 0]):
        current = current.clone()
        for _ in range(flips):
            current[position % 10] = ~current[position % 10]
            position += 1
        sequence.append((step, {"w": current}))
    drawn, distances = early_bird_search(sequence, queue=3, threshold=0.1)
    assert set(distances) == {20, 30, 40, 50, 60, 70, 80}
    # The newest mask against each older one in the FIFO (at most 2 older), the largest.
    assert distances[20] == pytest.approx(0.5) and distances[30] == pytest.approx(0.8)
    assert distances[40] == pytest.approx(0.4) and distances[50] == pytest.approx(0.1)
    assert distances[70] == pytest.approx(0.4)
    assert drawn == 50  # the first full FIFO with no distance above 0.1
    assert early_bird_search(sequence, queue=3, threshold=0.05)[0] == 60
    assert early_bird_search(sequence, queue=8, threshold=0.1)[0] is None  # full only at 80


def test_snapshots_pack_into_one_state_dict_and_back_in_order():
    snapshots = {100: {"w": torch.ones(2)}, 50: {"w": torch.zeros(2), "b": torch.ones(1)}}
    back = unpack(pack(snapshots))
    assert list(back) == [50, 100] and torch.equal(back[50]["b"], torch.ones(1))


def test_erk_keeps_the_total_exactly_and_small_layers_denser():
    shapes = {"first": (100, 40), "hidden": (100, 100), "output": (10, 100)}
    counts = erk_counts(shapes, 2778)
    assert sum(counts.values()) == 2778
    density = {name: counts[name] / math.prod(shape) for name, shape in shapes.items()}
    assert density["output"] > density["first"] > density["hidden"]
    # A budget that fills the output layer: it stays dense and the others share the rest.
    full = erk_counts(shapes, 9000)
    assert full["output"] == 1000 and sum(full.values()) == 9000
    like = {name: torch.ones(shape, dtype=torch.bool) for name, shape in shapes.items()}
    like["hidden"][:50] = False
    mask = erk_random_mask(like, generator(3))
    assert sum(int(keep.sum()) for keep in mask.values()) == 15000 - 5000
    assert all(torch.equal(mask[n], erk_random_mask(like, generator(3))[n]) for n in mask)


def test_cosine_drop_fraction_and_the_update_steps():
    assert drop_fraction(0, 0.3, 1000) == pytest.approx(0.3)
    assert drop_fraction(500, 0.3, 1000) == pytest.approx(0.15)
    assert drop_fraction(250, 0.3, 1000) == pytest.approx(0.15 * (1 + math.cos(math.pi / 4)))
    assert drop_fraction(1000, 0.3, 1000) == 0.0
    update = RigLUpdate(100, 0.3, 1125)
    assert [t for t in range(1, 1501) if update.due(t)] == list(range(100, 1200, 100))
    assert update.updates(1500) == 11
    # Static sparse at 20%: 0.2 of dense; each update step adds a dense weight gradient.
    assert rigl_cost(0.2, 1500, 0) == pytest.approx(0.2)
    assert rigl_cost(0.2, 1500, 11) == pytest.approx(0.2 + 11 * (1 - 0.2) / (3 * 1500))


def test_drop_and_grow_keeps_the_count_dropping_small_weights_growing_large_gradients():
    keep = torch.tensor([True, True, True, True, False, False, False, False])
    weight = torch.tensor([0.1, -5.0, 0.2, 3.0, 0.0, 0.0, 0.0, 0.0])
    grad = torch.tensor([9.0, 0.0, 0.0, 0.0, 0.5, -4.0, 0.1, 2.0])
    new = drop_and_grow(weight, grad, keep, 0.5)  # drop 2 of 4: the 0.1 and the 0.2
    assert int(new.sum()) == int(keep.sum())
    # Grown: the largest |grad| among the not-kept after the drop (position 0's 9.0 included).
    assert new.tolist() == [True, True, False, True, False, True, False, False]
    assert torch.equal(drop_and_grow(weight, grad, keep, 0.0), keep)


def test_replacing_a_mask_starts_grown_weights_and_changed_state_at_zero():
    weight = torch.tensor([1.0, 2.0, 0.0, 0.0])  # a grown weight is zero already; make it not
    weight[2] = 7.0
    keep = torch.tensor([1.0, 1.0, 0.0, 0.0])
    moment = torch.tensor([0.5, 0.5, 0.5, 0.5])
    replace_mask(weight, keep, torch.tensor([True, False, True, False]), [moment])
    assert keep.tolist() == [1.0, 0.0, 1.0, 0.0]
    assert weight.tolist() == [1.0, 2.0, 0.0, 0.0]  # the dropped 2.0 is masked by the step
    assert moment.tolist() == [0.5, 0.0, 0.0, 0.5]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dynamic")
    (folder / "set.yaml").write_text(TINY)
    cfg = load_experiment_set(folder / "set.yaml")["tiny_dynamic"]
    runs = {}
    # Stacked equals alone on one thread (tests/experiments/threads.py).
    with one_torch_thread():
        for name, stack in (("stacked", True), ("again", True), ("alone", False)):
            rows = run_trial("tiny_dynamic", cfg, 0, folder / name, device=torch.device("cpu"),
                             data_root=folder, log=lambda line: None, stack=stack)
            runs[name] = (rows, TrialState(folder / name / "state"))
    return runs


def row(rows, method, round_index):
    return next(r for r in rows if r["method"] == method and r["round"] == round_index)


def test_tiny_trial_repeats_bit_for_bit_stacked_or_alone(tiny):
    rows = tiny["stacked"][0]
    assert rows == tiny["again"][0] and rows == tiny["alone"][0]
    for method in ("rigl", "early_bird", "static_sparse"):
        first, alone = tiny["stacked"][1], tiny["alone"][1]
        assert all(torch.equal(first.load_mask(method, 2)[n], alone.load_mask(method, 2)[n])
                   for n in first.load_mask(method, 2))


def test_rigl_moves_static_sparse_mask_keeping_each_layers_count(tiny):
    rows, state = tiny["stacked"]
    static, moved = state.load_mask("static_sparse", 2), state.load_mask("rigl", 2)
    assert {n: int(k.sum()) for n, k in static.items()} == {n: int(k.sum()) for n, k in moved.items()}
    assert any(not torch.equal(static[n], moved[n]) for n in static)
    imp = state.load_mask("imp", 2)
    assert sum(int(k.sum()) for k in static.values()) == sum(int(k.sum()) for k in imp.values())
    assert row(rows, "rigl", 2)["train_cost"] > row(rows, "static_sparse", 2)["train_cost"]


def test_early_bird_row_reports_its_draw_distances_and_costs(tiny):
    rows, state = tiny["stacked"]
    dense, ticket = row(rows, "early_bird", 0), row(rows, "early_bird", 2)
    assert dense["test_acc"] == row(rows, "imp", 0)["test_acc"]  # the same dense training
    assert ticket["eb_iteration"] in range(4, 41, 4)
    assert ticket["density"] == row(rows, "imp", 2)["density"]
    assert sorted(int(k.rsplit("_", 1)[1]) for k in ticket if k.startswith("eb_dist_")) \
        == list(range(8, 41, 4))
    sparse = row(rows, "imp", 2)["flops"] / row(rows, "imp", 0)["flops"]
    assert ticket["train_cost"] == pytest.approx(ticket["eb_iteration"] / 40 + sparse)
    assert ticket["imp_train_cost"] == pytest.approx(
        sum(row(rows, "imp", r)["flops"] for r in range(3)) / row(rows, "imp", 0)["flops"])


def test_one_leaf_per_tensor_layout_updates_masks_as_per_model_leaves(tiny, tmp_path, monkeypatch):
    """A GPU's stack keeps each tensor as one (K, ...) leaf; the mask updates write through its
    views. On the CPU the same layout gives the same masks' counts and close accuracies."""
    from experiments import batched_training

    monkeypatch.setitem(batched_training.PER_MODEL_LEAVES, "cpu", False)
    (tmp_path / "set.yaml").write_text(TINY.replace("methods: [imp, early_bird, rigl, static_sparse]",
                                                    "methods: [imp, rigl, static_sparse]"))
    cfg = load_experiment_set(tmp_path / "set.yaml")["tiny_dynamic"]
    rows = run_trial("tiny_dynamic", cfg, 0, tmp_path / "run", device=torch.device("cpu"),
                     data_root=tmp_path, log=lambda line: None)
    moved = TrialState(tmp_path / "run" / "state").load_mask("rigl", 2)
    reference = tiny["stacked"][1].load_mask("rigl", 2)
    assert {n: int(k.sum()) for n, k in moved.items()} == \
        {n: int(k.sum()) for n, k in reference.items()}
    assert row(rows, "rigl", 2)["test_acc"] == pytest.approx(
        row(tiny["stacked"][0], "rigl", 2)["test_acc"], abs=0.05)
