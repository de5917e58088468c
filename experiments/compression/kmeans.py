"""Trained quantisation (Han et al. 2016, Section 3): per-layer k-means weight sharing.

The kept weights of a layer are clustered into 2**bits shared values by one-dimensional k-means
(Lloyd's algorithm), the centroids initialised linearly between the smallest and largest kept
weight, the initialisation Han et al. find best (it keeps centroids for the rare large weights).
Pruned weights are not clustered: they stay exactly zero.
"""

from __future__ import annotations

import torch

LLOYD_ITERATIONS = 50


def assign(values: torch.Tensor, centroids: torch.Tensor) -> torch.Tensor:
    """Index of the nearest centroid of each value; ``centroids`` sorted ascending."""
    midpoints = (centroids[1:] + centroids[:-1]) / 2
    return torch.bucketize(values, midpoints)


def kmeans_1d(values: torch.Tensor, bits: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(centroids (2**bits,), codes (n,)) of the 1-D float tensor ``values``.

    Centroids stay sorted (in one dimension each cluster is an interval, and the means of
    ordered intervals are ordered); an empty cluster keeps its centroid."""
    values = values.double()
    centroids = torch.linspace(float(values.min()), float(values.max()), 2 ** bits,
                               dtype=torch.float64)
    codes = assign(values, centroids)
    for _ in range(LLOYD_ITERATIONS):
        sums = torch.zeros_like(centroids).index_add_(0, codes, values)
        counts = torch.bincount(codes, minlength=centroids.numel())
        centroids = torch.where(counts > 0, sums / counts.clamp(min=1), centroids)
        new_codes = assign(values, centroids)
        if torch.equal(new_codes, codes):
            break
        codes = new_codes
    return centroids.float(), codes
