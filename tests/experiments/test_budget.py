"""The cluster request of a trial job: the written-down model sizes are the measured ones, and
the request grows with the experiment."""
import pytest

from experiments.budget import MAX_MINUTES, MODEL_MACS, trial_mem_mb, trial_minutes
from experiments.config import load_experiment_set
from experiments.flops import count
from experiments.models import build_model

INPUTS = {"lenet300_100": (1, 28, 28)}


@pytest.mark.parametrize("name", sorted(MODEL_MACS))
def test_model_sizes_are_those_flops_counts(name):
    shape = INPUTS.get(name, (3, 32, 32))
    assert count(build_model({"name": name}, shape, 10), shape).flops == MODEL_MACS[name]


def test_requests_follow_the_size_of_the_work():
    paper = load_experiment_set("config/experiments/paper.yaml")
    tiny = load_experiment_set("tests/fixtures/tiny.yaml")["tiny_mnist1d"]
    lenet, vgg = paper["lenet_mnist"], paper["vgg19_cifar10"]
    assert trial_minutes(tiny, 1, 0) < 20
    assert trial_minutes(lenet, 1, 1) < trial_minutes(lenet, 5, 1)
    assert trial_minutes(vgg, 1, 1) == MAX_MINUTES  # cut there and resumed on a retry
    assert trial_mem_mb(tiny) == 4000 < trial_mem_mb(vgg)
