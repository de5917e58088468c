"""Rewinding resumes (Frankle et al. 2020, open_lth): a run started from theta_k at step k sees
exactly the batches, augmentation draws and learning rates of the dense run's steps k+1..T.

With plain SGD (no momentum: no optimizer state that a resumed run would start afresh) the
resumed run must then end bit for bit where the dense run ends, alone and in a stack. A run that
restarted the schedule or the data order at step 0 fails this.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch

from experiments.batched_training import TrainJob, train_jobs
from experiments.masks import dense_mask
from experiments.models.mlp import MLP
from experiments.training import state_snapshot, train
from tests.experiments.test_training import tiny_dataset

pytestmark = pytest.mark.usefixtures("one_thread")

# Warm-up and two milestones straddle k, so a schedule restarted at 0 would differ.
CFG = {"optimizer": "sgd", "lr": 0.05, "momentum": 0.0, "weight_decay": 1e-3, "batch_size": 16,
       "iterations": 30, "eval_every": 10, "warmup_iterations": 9, "lr_milestones": [12, 20],
       "eval_batch_size": 32}
K = 7  # 120 examples / 16 = 8 batches an epoch: k falls inside the first epoch, T in the 4th


def augmented_dataset():
    """The toy data with a random augmentation, so its generator must be resumed too."""
    return dataclasses.replace(
        tiny_dataset(), augment=lambda x, rng: x + 0.1 * torch.randn(x.shape, generator=rng))


def build() -> MLP:
    torch.manual_seed(0)
    return MLP((12,), 3, hidden=(20,))


def dense_run(dataset):
    model = build()
    return train(model, dense_mask(model), dataset, CFG, data_seed=5, snapshot_iteration=K)


def assert_equal_weights(got, want):
    for name, value in want.items():
        assert torch.equal(got[name], value), name


def test_resumed_run_ends_where_the_dense_run_ends():
    dataset = augmented_dataset()
    dense = dense_run(dataset)
    model = build()
    model.load_state_dict(dense.snapshot)
    resumed = train(model, dense_mask(model), dataset, CFG, data_seed=5, start_iteration=K)
    assert_equal_weights(resumed.final_weights, dense.final_weights)
    assert [p.iteration for p in resumed.history] == [10, 20, 30]
    assert resumed.history == dense.history  # the same clock: evaluations at the same steps
    assert resumed.metrics()["iterations"] == CFG["iterations"] - K
    assert resumed.metrics()["early_stop_iter"] == dense.metrics()["early_stop_iter"]


def test_restarting_instead_of_resuming_differs():
    """The check has teeth: starting theta_k at step 0 (the old rewinding) does not match."""
    dataset = augmented_dataset()
    dense = dense_run(dataset)
    model = build()
    model.load_state_dict(dense.snapshot)
    short = {**CFG, "iterations": CFG["iterations"] - K}
    restarted = train(model, dense_mask(model), dataset, short, data_seed=5)
    assert not torch.equal(restarted.final_weights["layers.1.weight"],
                           dense.final_weights["layers.1.weight"])


def test_stacked_resumed_jobs_match_and_keep_their_order():
    """In one call, jobs resumed at k and jobs from step 0 train in separate stacks; each
    result comes back in its job's place, the resumed one equal to the dense run's end."""
    dataset = tiny_dataset()
    dense = dense_run(dataset)
    mask = dense_mask(build())
    start = state_snapshot(build())
    jobs = [TrainJob(start, mask, 5), TrainJob(dense.snapshot, mask, 5, start_iteration=K),
            TrainJob(start, mask, 5, snapshot_iteration=K)]
    results = train_jobs(jobs, build, dataset, CFG)
    assert_equal_weights(results[0].final_weights, dense.final_weights)
    assert_equal_weights(results[1].final_weights, dense.final_weights)
    assert_equal_weights(results[2].snapshot, dense.snapshot)
    assert results[1].history == dense.history
    assert results[1].metrics()["iterations"] == CFG["iterations"] - K
