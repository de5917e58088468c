"""Bit-identity across stack sizes holds with one torch thread: more threads split a product
differently in a batched and a single call (a 10-wide output layer under torch 2.14)."""

from __future__ import annotations

from contextlib import contextmanager

import torch


@contextmanager
def one_torch_thread():
    """torch on one thread inside the block, its thread count restored after."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
