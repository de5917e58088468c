"""Conv nets with batch norm train stacked (grouped convolutions, batch norm over K x C channels)
with the results of training each alone, bit for bit on one CPU thread: weights, batch-norm
running statistics, histories and snapshots; with their own masks, data orders, settings and the
slimming penalty; narrowed nets of other widths group by shape."""

from __future__ import annotations

import pytest
import torch

from experiments import batched_training
from experiments.batched_training import TrainJob, train_jobs
from experiments.data import Dataset, Split
from experiments.masks import dense_mask, layer_kinds, magnitude_prune
from experiments.models.conv import convnet
from experiments.stacked_conv import conv_stack
from experiments.structured.slimming import penalty_hook
from experiments.training import state_snapshot, train

from .test_batched_training import assert_same

pytestmark = pytest.mark.usefixtures("one_thread", "conv_stacks_on_cpu")


@pytest.fixture
def conv_stacks_on_cpu(monkeypatch):
    """The CPU trains conv nets one at a time (faster there); these tests stack them anyway."""
    monkeypatch.setitem(batched_training.STACK_CONVS, "cpu", True)

CFG = {"optimizer": "sgd", "momentum": 0.9, "lr": 0.05, "weight_decay": 1e-4, "batch_size": 20,
       "iterations": 24, "eval_every": 10, "eval_batch_size": 50, "lr_milestones": [15]}


def signal_dataset() -> Dataset:
    """MNIST-1D-shaped toy data: 40-sample signals, 10 classes."""
    gen = torch.Generator().manual_seed(0)

    def split(n: int) -> Split:
        return Split(torch.randn(n, 40, generator=gen), torch.randint(0, 10, (n,), generator=gen))

    return Dataset(name="toy", train=split(100), val=split(60), test=split(70), num_classes=10,
                   input_shape=(40,), augment=None)


def build(widths=(4, 6)):
    return convnet((40,), 10, widths, (8,), batch_norm=True)


def jobs(count: int, widths=(4, 6), **extra) -> list[TrainJob]:
    """Jobs with their own weights, masks and data seeds (two share a seed)."""
    made = []
    for index in range(count):
        torch.manual_seed(index)
        model = build(widths)
        weights = state_snapshot(model)
        mask = magnitude_prune(weights, dense_mask(model), {"conv": 0.3, "linear": 0.4,
                                                            "output": 0.2},
                               "layerwise", layer_kinds(model)) if index % 2 else dense_mask(model)
        made.append(TrainJob(weights, mask, data_seed=index // 2,
                             snapshot_iteration=5 if index == 1 else None, **extra))
    return made


def alone(job: TrainJob, cfg: dict, widths=(4, 6)):
    model = build(widths)
    model.load_state_dict(job.start_weights)
    hook = None if job.scale_penalty is None else penalty_hook(model, job.scale_penalty)
    return train(model, job.mask, signal_dataset(), cfg, data_seed=job.data_seed,
                 snapshot_iteration=job.snapshot_iteration, grad_hook=hook)


def test_the_structured_conv_net_stacks():
    assert conv_stack(build()) is not None
    assert conv_stack(convnet((3, 8, 8), 10, (4,), (8,), batch_norm=False)) is not None


@pytest.mark.parametrize("extra", [{}, {"scale_penalty": 0.03}])
def test_stacked_conv_nets_equal_module_training(extra):
    batch = jobs(4, **extra)
    together = train_jobs(batch, build, signal_dataset(), CFG)
    for result, job in zip(together, batch):
        assert_same(result, alone(job, CFG))
        assert "layers.1.running_mean" in result.final_weights


def test_narrowed_nets_and_own_settings_group_by_shape():
    """Two widths and two settings in one call: each job trains as it would alone."""
    tuned = {**CFG, "iterations": 12, "lr": 0.01, "lr_milestones": []}
    narrow = [TrainJob(**{**vars(job), "model": build((3, 5)), "cfg": tuned})
              for job in jobs(2, widths=(3, 5))]
    batch = jobs(3) + narrow
    together = train_jobs(batch, build, signal_dataset(), CFG)
    for result, job in zip(together[:3], batch[:3]):
        assert_same(result, alone(job, CFG))
    for result, job in zip(together[3:], narrow):
        assert_same(result, alone(job, tuned, (3, 5)))


def test_shared_jobs_train_once():
    first, second = jobs(1, share=("slim_dense", 0)) * 2
    results = train_jobs([first, second], build, signal_dataset(), CFG)
    assert results[0] is results[1]


def test_grouped_convolutions_match_at_the_structured_dense_shape(monkeypatch):
    """Grouped convolutions (the GPU's choice) give the lone numbers at the dense net of the
    structured experiments (16 and 32 channels, batches of 100); at other widths oneDNN's
    grouped kernels may round differently, which is why the CPU runs one convolution per copy."""
    monkeypatch.setitem(batched_training.GROUPED_CONVS, "cpu", True)
    cfg = {**CFG, "batch_size": 100, "iterations": 3, "eval_every": 3}
    batch = jobs(3, widths=(16, 32))
    together = train_jobs(batch, lambda: build((16, 32)), signal_dataset(), cfg)
    for result, job in zip(together, batch):
        assert_same(result, alone(job, cfg, (16, 32)))
