"""Fixtures shared by the experiment tests."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture
def one_thread():
    """One torch thread for the test: bit-identity holds per thread count, and with one thread
    also across stack sizes (more threads split a batched product differently)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
