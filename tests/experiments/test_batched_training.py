"""Training many jobs at once gives each job what training it alone gives: with one CPU thread bit
for bit, whatever the stack size; the stacked MLP equals the nn.Module trainer on the default
experiment's layer shapes; models that do not stack fall back to one at a time."""

from __future__ import annotations

import pytest
import torch

from experiments import batched_training
from experiments.batched_training import (TrainJob, bytes_per_model, models_per_stack,
                                          train_jobs)
from experiments.data import Dataset, Split
from experiments.masks import dense_mask, layer_kinds, magnitude_prune, random_mask
from experiments.models.mlp import MLP
from experiments.seeding import generator
from experiments.training import state_snapshot, train
from tests.experiments.test_training import tiny_dataset

pytestmark = pytest.mark.usefixtures("one_thread")

CFG = {"optimizer": "adam", "lr": 0.01, "batch_size": 16, "iterations": 40, "eval_every": 15,
       "eval_batch_size": 32}


def build() -> MLP:
    return MLP((12,), 3, hidden=(20, 16))


def jobs(count: int) -> list[TrainJob]:
    """Jobs that differ in start weights, mask and data seed; two pairs share a data seed."""
    made = []
    for index in range(count):
        torch.manual_seed(index)
        model = build()
        weights = state_snapshot(model)
        mask = random_mask(magnitude_prune(weights, dense_mask(model), {"linear": 0.4,
                                                                        "output": 0.2},
                                           "layerwise", layer_kinds(model)), generator(index))
        made.append(TrainJob(weights, mask, data_seed=index // 2,
                             snapshot_iteration=3 if index == 1 else None))
    return made


def alone(job: TrainJob, cfg: dict):
    model = build()
    model.load_state_dict(job.start_weights)
    return train(model, job.mask, tiny_dataset(), cfg, data_seed=job.data_seed,
                 snapshot_iteration=job.snapshot_iteration)


def assert_same(result, expected):
    assert result.history == expected.history
    for name, value in expected.final_weights.items():
        assert torch.equal(result.final_weights[name], value), name
    assert (result.snapshot is None) == (expected.snapshot is None)
    if expected.snapshot is not None:
        for name, value in expected.snapshot.items():
            assert torch.equal(result.snapshot[name], value), name


@pytest.mark.parametrize("optimizer", [
    {"optimizer": "adam"},
    {"optimizer": "sgd", "momentum": 0.9, "weight_decay": 1e-3, "lr_milestones": [20]},
    {"optimizer": "adamw", "weight_decay": 0.1, "warmup_iterations": 5},
])
def test_stacked_jobs_equal_jobs_stacked_alone(optimizer):
    cfg = {**CFG, **optimizer}
    batch = jobs(5)
    together = train_jobs(batch, build, tiny_dataset(), cfg)
    for result, job in zip(together, batch):
        assert_same(result, train_jobs([job], build, tiny_dataset(), cfg)[0])


def assert_stacked_equals_alone(build_model, copies: int = 3) -> None:
    """Copies of ``build_model()`` (40 inputs, 10 classes) trained stacked equal each trained
    alone, on batches of 50 with evaluation chunks of 100."""
    data = wide_dataset()
    cfg = {**CFG, "batch_size": 50, "eval_batch_size": 100, "iterations": 12, "eval_every": 6}
    batch = []
    for index in range(copies):
        torch.manual_seed(index)
        model = build_model()
        batch.append(TrainJob(state_snapshot(model), dense_mask(model), data_seed=index))
    for result, job in zip(train_jobs(batch, build_model, data, cfg), batch):
        model = build_model()
        model.load_state_dict(job.start_weights)
        assert_same(result, train(model, job.mask, data, cfg, data_seed=job.data_seed))


def test_stacked_mlp_equals_module_training_on_the_default_shapes():
    """The lottery-ticket MLP (40-100-100-10): here the batched products use the same kernels as
    nn.Linear. (On tiny products, such as 3 outputs of 8 rows, oneDNN picks other kernels for
    nn.Linear and the two differ in the last bits.)"""
    assert_stacked_equals_alone(lambda: MLP((40,), 10, hidden=(100, 100)))


def wide_dataset() -> Dataset:
    gen = torch.Generator().manual_seed(0)

    def split(n: int) -> Split:
        return Split(torch.randn(n, 40, generator=gen), torch.randint(0, 10, (n,), generator=gen))

    return Dataset(name="toy", train=split(300), val=split(100), test=split(200), num_classes=10,
                   input_shape=(40,), augment=None)


def test_stack_size_does_not_change_results():
    batch = jobs(5)
    whole = train_jobs(batch, build, tiny_dataset(), CFG)
    for size in (1, 2):
        for one, other in zip(whole, train_jobs(batch, build, tiny_dataset(), CFG,
                                                max_models=size)):
            assert_same(one, other)


def test_short_last_batch_follows_the_same_order():
    cfg = {**CFG, "batch_size": 50}  # 120 examples: batches of 50, 50, 20
    batch = jobs(3)
    together = train_jobs(batch, build, tiny_dataset(), cfg)
    for result, job in zip(together, batch):
        assert_same(result, train_jobs([job], build, tiny_dataset(), cfg)[0])


def test_stack_off_trains_one_at_a_time():
    batch = jobs(2)
    for result, job in zip(train_jobs(batch, build, tiny_dataset(), CFG, stack=False), batch):
        assert_same(result, alone(job, CFG))


def test_bfloat16_stays_close_to_float32():
    batch = jobs(2)
    exact = train_jobs(batch, build, tiny_dataset(), CFG)
    low = train_jobs(batch, build, tiny_dataset(), {**CFG, "precision": "bfloat16"})
    for one, other in zip(exact, low):
        assert one.history != other.history  # it did compute in another precision
        assert abs(one.history[-1].val_acc - other.history[-1].val_acc) <= 0.15


def test_one_leaf_per_tensor_layout_trains_the_same_within_tolerance(monkeypatch):
    """The GPU layout, run on the CPU: one (K, ...) leaf per tensor. Its optimizer's vector loop
    splits the elements differently, so it agrees to float tolerance, not bit for bit."""
    batch = jobs(3)
    per_model = train_jobs(batch, build, tiny_dataset(), CFG)
    monkeypatch.setitem(batched_training.PER_MODEL_LEAVES, "cpu", False)
    shared = train_jobs(batch, build, tiny_dataset(), CFG)
    for one, other, job in zip(per_model, shared, batch):
        for name, keep in job.mask.items():
            assert torch.count_nonzero(other.final_weights[name][~keep]) == 0
        for name, value in one.final_weights.items():
            assert torch.allclose(other.final_weights[name], value, atol=1e-4), name
        assert one.history[-1].val_acc == pytest.approx(other.history[-1].val_acc, abs=0.05)


def test_stacks_are_sized_to_the_free_memory(monkeypatch):
    model = build()
    per_model = bytes_per_model(model, tiny_dataset(), CFG)
    assert per_model > 7 * 4 * sum(p.numel() for p in model.parameters())
    # Room for two models in the share of memory a stack may use: stacks of two, same results.
    free = int(2.5 * per_model / batched_training.MEMORY_SHARE)
    monkeypatch.setattr(batched_training, "free_memory", lambda device: free)
    assert models_per_stack(model, tiny_dataset(), CFG, torch.device("cpu")) == 2
    sizes = []
    original = batched_training._StackedRun

    def recording(chain, chunk, *args):
        sizes.append(len(chunk))
        return original(chain, chunk, *args)

    monkeypatch.setattr(batched_training, "_StackedRun", recording)
    batch = jobs(5)
    results = train_jobs(batch, build, tiny_dataset(), CFG)
    assert sizes == [2, 2, 1]
    monkeypatch.setattr(batched_training, "_StackedRun", original)
    for result, whole in zip(results, train_jobs(batch, build, tiny_dataset(), CFG)):
        assert_same(result, whole)


def test_free_memory_of_the_host_is_positive():
    assert batched_training.free_memory(torch.device("cpu")) > 0


def test_a_residual_mlp_trains_the_same_stacked_as_alone_and_adds_its_input():
    """The MNIST-1D notebook's MLP: the second hidden layer adds its input to its output."""
    model = MLP((40,), 10, hidden=(100, 100), residual=True)
    assert model.skips == (False, True, False)
    x = torch.randn(4, 40)
    first, second, last = (m for m in model.layers if isinstance(m, torch.nn.Linear))
    h = torch.relu(first(x))
    assert torch.allclose(model(x), last(h + torch.relu(second(h))))
    assert_stacked_equals_alone(lambda: MLP((40,), 10, hidden=(100, 100), residual=True), 2)
