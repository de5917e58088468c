"""Supermask searches train stacked: each copy in a stack gets, on one CPU thread, bit for bit
what its search alone gets (masks, scores, every evaluation); Bernoulli draws come from the
job's own generator, never torch's global one."""

from __future__ import annotations

import pytest
import torch

from experiments.batched_training import TrainJob, train_jobs
from experiments.masks import dense_mask, prunable_weights
from experiments.models.mlp import MLP
from experiments.seeding import generator
from experiments.supermasks.learned import SupermaskSpec, evaluation_mask
from experiments.training import state_snapshot
from tests.experiments.test_training import tiny_dataset

pytestmark = pytest.mark.usefixtures("one_thread")

# Whole batches and one evaluation chunk: below 400 multiply-adds per matrix (a last batch of 8
# rows into the 3 outputs) torch's CPU batched product takes a plain loop, which rounds
# differently from the lone layer's product; the experiments' products are far larger.
CFG = {"optimizer": "sgd", "momentum": 0.9, "weight_decay": 5e-4, "lr": 0.5, "batch_size": 20,
       "iterations": 30, "eval_every": 10, "eval_batch_size": 50}


def build() -> MLP:
    return MLP((12,), 3, hidden=(20, 16))


def search(index: int, style: str, rescale: bool = True) -> TrainJob:
    """A supermask job whose weights, scores, kept counts, data order and draws depend on
    ``index``."""
    torch.manual_seed(index)
    model = build()
    weights = state_snapshot(model)
    rng = generator(100 + index)
    scores = {name: torch.randn(w.shape, generator=rng) for name, w in
              prunable_weights(model).items()}
    keep = {name: w.numel() // (2 + index % 3) for name, w in prunable_weights(model).items()}
    spec = SupermaskSpec(style, scores, keep, rescale, sample_seed=7 + index)
    return TrainJob(weights, dense_mask(model), data_seed=index // 2, cfg=CFG, supermask=spec)


def assert_same(result, expected) -> None:
    assert result.history == expected.history
    assert result.final_weights.keys() == expected.final_weights.keys()
    for name, value in expected.final_weights.items():
        assert torch.equal(result.final_weights[name], value), name


def alone(job: TrainJob):
    return train_jobs([job], build, tiny_dataset(), CFG, stack=False)[0]


@pytest.mark.parametrize("style", ["topk", "bernoulli"])
def test_a_search_in_a_stack_equals_the_search_alone(style):
    batch = [search(index, style, rescale=index != 2) for index in range(4)]
    together = train_jobs(batch, build, tiny_dataset(), CFG)
    for result, job in zip(together, batch):
        assert_same(result, alone(job))


def test_searches_and_weight_training_share_a_wave_without_mixing():
    torch.manual_seed(9)
    model = build()
    plain = TrainJob(state_snapshot(model), dense_mask(model), data_seed=3)
    batch = [search(0, "topk"), plain, search(1, "bernoulli"), search(2, "topk")]
    together = train_jobs(batch, build, tiny_dataset(), CFG)
    for result, job in zip(together, batch):
        assert_same(result, train_jobs([job], build, tiny_dataset(), CFG, stack=False)[0])
    assert together[1].final_weights.keys() == plain.start_weights.keys()


def test_bernoulli_draws_come_from_the_jobs_generator_only():
    job = search(1, "bernoulli")
    torch.manual_seed(1)
    first = train_jobs([job, search(0, "bernoulli")], build, tiny_dataset(), CFG)[0]
    torch.manual_seed(2)
    again = alone(job)
    assert_same(first, again)
    spec = job.supermask
    other_seed = SupermaskSpec(spec.style, spec.scores, spec.keep, spec.rescale,
                               spec.sample_seed + 1)
    other = alone(TrainJob(job.start_weights, job.mask, job.data_seed, cfg=CFG,
                           supermask=other_seed))
    assert other.history != first.history


def test_the_search_trains_scores_only_and_topk_keeps_k():
    job = search(0, "topk")
    result = alone(job)
    start = job.supermask.scores
    assert any(not torch.equal(result.final_weights[name], start[name]) for name in start)
    mask = evaluation_mask("topk", result.final_weights, job.supermask.keep)
    assert {name: int(keep.sum()) for name, keep in mask.items()} == job.supermask.keep


def test_conv_searches_with_batch_norm_stack_as_on_a_gpu(monkeypatch):
    """A GPU stacks conv nets; on the CPU with one convolution per copy a stacked search
    still equals its search alone, batch-norm running statistics included."""
    from experiments import batched_training
    from experiments.models.conv import convnet
    from tests.experiments.test_stacked_conv import signal_dataset

    monkeypatch.setitem(batched_training.STACK_CONVS, "cpu", True)
    monkeypatch.setitem(batched_training.GROUPED_CONVS, "cpu", False)

    def conv() -> torch.nn.Module:
        return convnet((40,), 10, (4, 6), (8,), batch_norm=True)

    cfg = dict(CFG, eval_batch_size=60)
    batch = []
    for index, style in enumerate(["topk", "bernoulli", "topk"]):
        torch.manual_seed(index)
        model = conv()
        weights = prunable_weights(model)
        scores = {name: torch.randn(w.shape, generator=generator(index)) for name, w in
                  weights.items()}
        keep = {name: w.numel() // 2 for name, w in weights.items()}
        spec = SupermaskSpec(style, scores, keep, True, sample_seed=index)
        batch.append(TrainJob(state_snapshot(model), dense_mask(model), data_seed=index,
                              cfg=cfg, supermask=spec))
    together = train_jobs(batch, conv, signal_dataset(), cfg)
    for result, job in zip(together, batch):
        assert_same(result, train_jobs([job], conv, signal_dataset(), cfg, stack=False)[0])
