"""Fixtures shared by the experiment tests."""

from __future__ import annotations

import pytest

from tests.experiments.threads import one_torch_thread


@pytest.fixture
def one_thread():
    """One torch thread for the test: bit-identity holds per thread count, and with one thread
    also across stack sizes (more threads split a batched product differently)."""
    with one_torch_thread():
        yield
