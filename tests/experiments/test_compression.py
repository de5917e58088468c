"""Deep compression and error-bounded coding (experiments/compression/): the relative index with
fillers, k-means sharing, the shared-gradient rule, the Huffman and lossy codecs on arrays made
here, the file's round trip, and the two methods in a tiny trial (deterministic per seed)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from dahuffman import HuffmanCodec
from torch import nn

from experiments.compression import lossy
from experiments.compression.container import (ValueCoding, huffman_decode, huffman_encode,
                                                sparse_payload_bits)
from experiments.compression.kmeans import kmeans_1d
from experiments.compression.pipeline import (bound_key, finetune_centroids, quantise,
                                              shared_weights)
from experiments.compression.sparse_index import decode_positions, encode_gaps
from experiments.compression.stages import round_trip
from experiments.aggregate import group_rounds
from experiments.config import load_experiment_set
from experiments.data import Dataset, Split
from experiments.trial import run_trial
from experiments.trial_state import TrialState

pytestmark = pytest.mark.usefixtures("one_thread")

TINY = """\
experiments:
  tiny_compression:
    dataset: {name: mnist1d, validation: 100, num_samples: 600}
    model: {name: mlp, hidden: [16]}
    training: {optimizer: adam, lr: 0.01, batch_size: 50, iterations: 20, eval_every: 10}
    pruning: {rates: {linear: 0.3, output: 0.2}, rounds: 5}
    methods: [imp, deep_compression, deep_compression_ticket]
    compression: {bits: [2, 5], retrain_iterations: 10, finetune_iterations: 5,
                  sz3_bounds: [0.001, 0.1], zfp_tolerances: [0.01]}
    seeds: [0]
"""


def test_relative_index_bridges_wide_gaps_with_fillers_and_decodes_exactly():
    positions = np.array([0, 1, 7, 8, 40, 41, 200], dtype=np.int64)
    fields = encode_gaps(positions, gap_bits=3)  # widest gap 7
    assert fields.max() <= 7
    # gaps 1,1,6,1,32,1,159: 32 takes 4 fillers (4 * 7 = 28, then 4), 159 takes 22
    assert int((fields == 0).sum()) == 4 + 22
    assert decode_positions(fields, 3).tolist() == positions.tolist()
    rng = np.random.default_rng(0)
    random_positions = np.sort(rng.choice(10_000, size=300, replace=False))
    for bits in (1, 2, 5, 8):
        assert decode_positions(encode_gaps(random_positions, bits), bits).tolist() == \
            random_positions.tolist()


def test_kmeans_starts_linear_keeps_centroids_sorted_and_codes_nearest():
    values = torch.cat([torch.randn(500) * 0.1, torch.tensor([2.0, -1.5])])
    centroids, codes = kmeans_1d(values, bits=3)
    assert centroids.numel() == 8
    assert torch.all(centroids[1:] >= centroids[:-1])
    nearest = (values[:, None] - centroids[None, :]).abs().argmin(dim=1)
    assert torch.equal(codes, nearest)
    # Linear initialisation keeps a centroid for the rare extreme weights.
    assert centroids[0] == pytest.approx(-1.5) and centroids[-1] == pytest.approx(2.0)


def test_huffman_matches_dahuffman_and_round_trips():
    symbols = np.array([0, 0, 0, 0, 1, 1, 2, 3, 3, 3, 0, 7], dtype=np.int64)
    freqs, code = huffman_encode(symbols)
    assert freqs == {0: 5, 1: 2, 2: 1, 3: 3, 7: 1}
    assert code == HuffmanCodec.from_frequencies(freqs).encode(symbols.tolist())
    assert huffman_decode({str(k): v for k, v in freqs.items()}, code).tolist() == \
        symbols.tolist()


@pytest.mark.parametrize("codec", lossy.CODECS)
@pytest.mark.parametrize("bound", [1e-4, 1e-2, 0.1])
def test_lossy_codecs_hold_the_absolute_error_bound(codec, bound):
    values = (np.random.default_rng(1).standard_normal(777) * 0.2).astype(np.float32)
    decoded = lossy.decompress(lossy.compress(values, codec, bound), codec, len(values))
    assert decoded.shape == values.shape
    assert np.abs(decoded - values).max() <= bound


def layer_and_mask(seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    weight = torch.randn(12, 20, generator=gen)
    keep = torch.rand(12, 20, generator=gen) < 0.15
    weights = {"fc.weight": weight * keep, "fc.bias": torch.randn(12, generator=gen)}
    return weights, {"fc.weight": keep}


def test_kmeans_file_round_trip_reproduces_the_quantised_weights_exactly():
    weights, mask = layer_and_mask()
    shared = quantise(weights, mask, bits=3)
    blob, decoded = round_trip(weights, mask, 3, ValueCoding("kmeans", shared=shared))
    expected = shared_weights(weights, mask, shared)
    assert set(decoded) == set(weights)
    for name in weights:
        assert torch.equal(decoded[name], expected[name]), name
    assert torch.equal(decoded["fc.weight"] != 0, mask["fc.weight"] & (expected["fc.weight"] != 0))
    assert 0 < sparse_payload_bits(blob) < 8 * len(blob)


@pytest.mark.parametrize("codec", lossy.CODECS)
def test_lossy_file_round_trip_keeps_the_mask_and_the_bound(codec):
    weights, mask = layer_and_mask(1)
    _, decoded = round_trip(weights, mask, 4, ValueCoding(codec, bound=0.01))
    keep = mask["fc.weight"]
    assert torch.all(decoded["fc.weight"][~keep] == 0)
    assert (decoded["fc.weight"] - weights["fc.weight"]).abs().max() <= 0.01
    assert torch.equal(decoded["fc.bias"], weights["fc.bias"])


def test_centroid_step_is_minus_lr_times_the_summed_gradient_of_its_weights():
    weights, mask = layer_and_mask(2)
    model = nn.Sequential()
    model.add_module("fc", nn.Linear(20, 12))
    shared = quantise(weights, mask, bits=2)
    x, y = torch.randn(8, 20), torch.randint(0, 12, (8,))
    data = Dataset("batch", Split(x, y), Split(x, y), Split(x, y), num_classes=12,
                   input_shape=(20,), augment=None)
    lr = 0.5
    tuned = finetune_centroids(model, weights, mask, shared, data, batch_size=8, steps=1,
                               lr=lr, data_seed=0)
    # The gradient of every weight, at the shared weights, on the one batch (order irrelevant).
    start = shared_weights(weights, mask, shared)
    model.load_state_dict(start)
    nn.functional.cross_entropy(model(x), y).backward()
    grad = model.fc.weight.grad[mask["fc.weight"]]
    codes = shared["fc.weight"].codes
    summed = torch.zeros(4).index_add_(0, codes, grad)
    assert torch.allclose(tuned["fc.weight"].centroids,
                          shared["fc.weight"].centroids - lr * summed, atol=1e-6)
    assert torch.equal(tuned["fc.weight"].codes, codes)


def test_bound_keys_have_no_dots():
    assert [bound_key(b) for b in (1e-4, 3e-3, 0.1, 2.0)] == ["1em4", "3em3", "1em1", "2e0"]


@pytest.fixture(scope="module")
def tiny_rows(tmp_path_factory):
    folder = tmp_path_factory.mktemp("compression")
    (folder / "set.yaml").write_text(TINY)
    cfg = load_experiment_set(folder / "set.yaml")["tiny_compression"]
    runs = [run_trial("tiny_compression", cfg, 0, folder / name, device=torch.device("cpu"),
                      data_root=folder, log=lambda line: None) for name in ("a", "b")]
    return runs, TrialState(folder / "a" / "state")


def test_methods_compress_every_fourth_round_back_from_the_last_and_report_every_stage(tiny_rows):
    rows = tiny_rows[0][0]
    compressed = [row for row in rows if row["method"].startswith("deep_compression")]
    assert {(row["method"], row["round"]) for row in compressed} == \
        {(method, r) for method in ("deep_compression", "deep_compression_ticket") for r in (1, 5)}
    ticket = next(row for row in rows if row["method"] == "imp" and row["round"] == 5)
    last = [row for row in compressed if row["round"] == 5]
    for row in last:
        assert row["density"] == pytest.approx(ticket["density"])
        assert row["dc_dense_bits"] == 32 * row["dc_weights"]
        assert row["dc_pruned_ratio"] < row["dc_q5_ratio"] < row["dc_q2_ratio"]
        for key in ("dc_q2_acc", "dc_h5_ratio", "dc_sz3_1em3_acc", "dc_zfp_1em2_ratio"):
            assert key in row
    reused = next(row for row in last if row["method"] == "deep_compression_ticket")
    assert reused["test_acc"] == ticket["test_acc"]  # the ticket's own round


def test_retraining_reports_its_early_stop_on_the_clock_of_its_own_steps(tiny_rows):
    retrained = [row for row in tiny_rows[0][0] if row["method"] == "deep_compression"]
    # retrain_iterations 10 of the 20 steps, evaluated after its 10th: steps into retraining.
    assert [(row["iterations"], row["early_stop_iter"]) for row in retrained] == [(10, 10)] * 2


def test_han_pruning_is_iterative_with_the_tickets_counts(tiny_rows):
    state = tiny_rows[1]
    early, late = (state.load_mask("deep_compression", r) for r in (1, 5))
    for name, keep in late.items():
        assert int(keep.sum()) == int(state.load_mask("imp", 5)[name].sum())
        assert not (keep.bool() & ~early[name].bool()).any()  # pruned from round 1's survivors


def test_same_seed_gives_the_same_numbers_and_aggregate_summarises_them(tiny_rows):
    first, second = tiny_rows[0]
    assert first == second
    entry = group_rounds(first, "deep_compression")[-1]
    assert entry["dc_h2_ratio"]["n"] == 1 and entry["dc_q5_acc"]["mean"] >= 0
