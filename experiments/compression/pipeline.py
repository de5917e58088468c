"""The deep-compression pipeline on one pruned, trained network, stage by stage (Han et al.
2016, Table 1), beside error-bounded coding of the same weights (DeepSZ, Jin et al. 2019).

Stages and how their size is counted (bits of the pruned weight matrices; biases, a few hundred
float32, are stored raw in the file and left out of the ratio, as in Han et al.'s table):

- dense: 32 bits per weight of every prunable layer;
- pruned (P): each entry (kept weight or filler) a 32-bit value and a ``gap_bits`` index;
- quantised (P+Q): each entry a ``bits``-wide code and a ``gap_bits`` index, plus each layer's
  codebook of 2**bits float32 values;
- Huffman (P+Q+H): the bits of the written file's Huffman-coded index and code streams plus
  the codebooks (experiments/compression/container.py ``sparse_payload_bits``); ``file_ratio``
  divides all parameters at 32 bits by the whole file, header, tables and biases included.

Accuracy after quantisation is measured from the weights decoded from the file, after the
centroids are fine-tuned with Han et al.'s shared-gradient rule: a centroid's gradient is the sum
of the gradients of the weights that share it (autograd of the gather below gives exactly that),
pruned weights stay zero, codes stay fixed. The lossy codecs code the kept values of each layer
at each absolute error bound; the index stream is coded as in P+Q+H.
"""

from __future__ import annotations

import itertools
from typing import Mapping

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from experiments.compression.container import Shared
from experiments.compression.kmeans import kmeans_1d
from experiments.compression.sparse_index import encode_gaps
from experiments.data import Dataset, iterate_batches
from experiments.masks import Mask
from experiments.seeding import generator
from experiments.training import StateDict, evaluate

FLOAT_BITS = 32


def bound_key(bound: float) -> str:
    """A key for an error bound without dots or signs: 1e-4 -> '1em4', 3e-2 -> '3em2'."""
    mantissa, exponent = f"{bound:.0e}".split("e")
    return f"{mantissa}e{'m' if int(exponent) < 0 else ''}{abs(int(exponent))}"


def entry_counts(mask: Mask, gap_bits: int) -> dict[str, int]:
    """Entries (kept weights plus fillers) of each layer's relative index."""
    return {name: len(encode_gaps(torch.nonzero(keep.flatten()).flatten().numpy(), gap_bits))
            for name, keep in mask.items()}


def quantise(weights: StateDict, mask: Mask, bits: int) -> dict[str, Shared]:
    """Each layer's k-means codebook and codes of its kept weights (row-major order)."""
    shared = {}
    for name, keep in mask.items():
        kept = weights[name].flatten()[keep.flatten().bool()]
        centroids, codes = kmeans_1d(kept, bits)
        shared[name] = Shared(centroids, codes)
    return shared


def shared_weights(weights: StateDict, mask: Mask, shared: Mapping[str, Shared]) -> StateDict:
    """``weights`` with each kept weight replaced by its centroid (pruned ones zero)."""
    out = dict(weights)
    for name, keep in mask.items():
        flat = torch.zeros(keep.numel())
        flat[keep.flatten().bool()] = shared[name].centroids[shared[name].codes]
        out[name] = flat.reshape(keep.shape)
    return out


def finetune_centroids(model: nn.Module, weights: StateDict, mask: Mask,
                       shared: Mapping[str, Shared], dataset: Dataset, batch_size: int,
                       steps: int, lr: float, data_seed: int) -> dict[str, Shared]:
    """Centroids after ``steps`` SGD steps of the shared-gradient rule; codes unchanged."""
    device = dataset.train.x.device
    fixed = {name: value.to(device) for name, value in weights.items() if name not in mask}
    centroids = {name: s.centroids.to(device).clone().requires_grad_(True)
                 for name, s in shared.items()}
    kept = {name: torch.nonzero(keep.flatten()).flatten().to(device) for name, keep in mask.items()}
    codes = {name: s.codes.to(device) for name, s in shared.items()}
    optimizer = torch.optim.SGD(list(centroids.values()), lr=lr)
    order = generator(data_seed)  # one stream over epochs, as in training
    batches = itertools.chain.from_iterable(
        iterate_batches(dataset.train, batch_size, order) for _ in itertools.count())
    for x, y in itertools.islice(batches, steps):
        params = dict(fixed)
        for name, keep in mask.items():
            flat = torch.zeros(keep.numel(), device=device)  # (numel,)
            params[name] = flat.index_put((kept[name],), centroids[name][codes[name]]) \
                .reshape(keep.shape)
        loss = F.cross_entropy(functional_call(model, params, (x,)), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {name: Shared(centroids[name].detach().cpu(), shared[name].codes) for name in shared}


def accuracy(model: nn.Module, weights: StateDict, dataset: Dataset, batch_size: int) -> float:
    """Test accuracy of ``model`` holding ``weights``."""
    model.load_state_dict({name: value.to(dataset.test.x.device)
                           for name, value in weights.items()})
    return evaluate(model, dataset.test, batch_size)[1]
