"""Relative indexing of a sparse layer, as in Han et al. (2016), Section 2 and Figure 2.

A layer's kept weights, in row-major order, are stored as entries: each entry holds the gap
(in positions) from the previous kept weight and the weight's value. Gaps are ``gap_bits`` wide;
a gap wider than the largest representable one, M = 2**gap_bits - 1, is bridged by *filler*
entries, Han's padding zeros, that advance M positions and hold no weight. We write a filler as
the gap field 0 (a real gap is never 0), so the decoder needs no value to tell fillers apart;
in the fixed-width count a filler still costs a value field, as Han's zero weight does.
"""

from __future__ import annotations

import numpy as np


def max_gap(gap_bits: int) -> int:
    return 2 ** gap_bits - 1


def encode_gaps(positions: np.ndarray, gap_bits: int) -> np.ndarray:
    """Gap fields (0: filler) of the entries of kept ``positions`` (sorted, int64)."""
    step = max_gap(gap_bits)
    gaps = np.diff(np.concatenate([[-1], positions]))  # >= 1
    fillers = (gaps - 1) // step
    fields = np.zeros(int((fillers + 1).sum()), dtype=np.int64)
    real_entries = np.cumsum(fillers + 1) - 1
    fields[real_entries] = gaps - fillers * step
    return fields


def decode_positions(fields: np.ndarray, gap_bits: int) -> np.ndarray:
    """The kept positions that ``encode_gaps`` coded as ``fields``."""
    steps = np.where(fields == 0, max_gap(gap_bits), fields)
    return (np.cumsum(steps) - 1)[fields != 0]
