"""The MNIST-format loader on real files: Fashion-MNIST as Debian's dataset-fashion-mnist ships
it (the original IDX files, gzipped), uncompressed into a data root as the README says."""
import gzip
import shutil
from pathlib import Path

import pytest
import torch

from experiments.data import MNIST_FILES, load_dataset

SHIPPED = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture(scope="module")
def fashion(tmp_path_factory):
    if not all((SHIPPED / f"{name}.gz").is_file() for name in MNIST_FILES):
        pytest.skip(f"Fashion-MNIST files not in {SHIPPED}: apt-get install dataset-fashion-mnist")
    raw = tmp_path_factory.mktemp("data") / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for name in MNIST_FILES:
        with gzip.open(SHIPPED / f"{name}.gz") as packed, open(raw / name, "wb") as plain:
            shutil.copyfileobj(packed, plain)
    spec = {"name": "fashion_mnist", "validation": 5000}
    return load_dataset(spec, raw.parents[1], "cpu", seed=0)


def test_the_real_files_give_the_published_sizes(fashion):
    assert (len(fashion.train), len(fashion.val), len(fashion.test)) == (55000, 5000, 10000)
    assert fashion.input_shape == (1, 28, 28) and fashion.num_classes == 10


def test_every_class_has_its_published_share(fashion):
    # Fashion-MNIST: 6,000 training and 1,000 test images of each of the ten classes
    train = torch.bincount(torch.cat([fashion.train.y, fashion.val.y]), minlength=10)
    assert train.tolist() == [6000] * 10
    assert torch.bincount(fashion.test.y, minlength=10).tolist() == [1000] * 10


def test_images_are_normalised_with_training_statistics(fashion):
    assert abs(fashion.train.x.mean().item()) < 1e-3
    assert abs(fashion.train.x.std().item() - 1) < 1e-2
    assert fashion.test.x.shape == (10000, 1, 28, 28)
