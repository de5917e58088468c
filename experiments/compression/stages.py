"""Every stage's size and accuracy for one pruned network, as ``dc_*`` columns of a rounds.csv
row (experiments/aggregate.py summarises them; experiments/plots/compression.py draws them).

Columns (b: a bit width of ``compression.bits``; C: sz3 or zfp; K: a bound's key, 1e-3 -> 1em3):

    dc_weights                    prunable weights of the dense network
    dc_dense_bits, dc_dense_acc   32-bit dense network (imp's round 0)
    dc_pruned_bits/_ratio/_acc    pruned, 32-bit values and relative index (P)
    dc_qb_bits/_ratio             weight sharing at b bits, fixed-width codes and index (P+Q)
    dc_qb_untuned_acc, dc_qb_acc  its accuracy before and after the centroid fine-tune
    dc_hb_bits/_ratio             Huffman-coded, as written to the file (P+Q+H)
    dc_hb_file_bits/_file_ratio   the whole file (header, tables, biases included)
    dc_C_K_bits/_ratio/_file_ratio/_acc   values coded by C at absolute error bound K

Ratios are dense bits over the stage's bits. Every accuracy after quantisation or lossy coding
is measured on weights decoded from the file's bytes (written, read back, decoded).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import torch
from torch import nn

from experiments.compression.container import (ValueCoding, decode_model, encode_model,
                                                sparse_payload_bits)
from experiments.compression.pipeline import (FLOAT_BITS, accuracy, bound_key, entry_counts,
                                              finetune_centroids, quantise, shared_weights)
from experiments.data import Dataset
from experiments.masks import Mask
from experiments.settings import CompressionSettings
from experiments.training import StateDict


class Stages:
    """Measures the stages of one network; ``measure()`` gives the row's ``dc_*`` columns."""

    def __init__(self, model: nn.Module, dataset: Dataset, settings: CompressionSettings,
                 batch_sizes: tuple[int, int], data_seed: int):
        self.model, self.dataset, self.settings = model, dataset, settings
        self.train_batch, self.eval_batch = batch_sizes
        self.data_seed = data_seed

    def accuracy(self, weights: StateDict) -> float:
        return accuracy(self.model, weights, self.dataset, self.eval_batch)

    def measure(self, dense: StateDict, weights: StateDict, mask: Mask) -> dict:
        weight_count = sum(keep.numel() for keep in mask.values())
        dense_bits = FLOAT_BITS * weight_count
        entries = entry_counts(mask, self.settings.index_bits)
        pruned_bits = sum(entries.values()) * (FLOAT_BITS + self.settings.index_bits)
        row = {"dc_weights": weight_count, "dc_dense_bits": dense_bits,
               "dc_dense_acc": self.accuracy(dense), "dc_pruned_bits": pruned_bits,
               "dc_pruned_ratio": dense_bits / pruned_bits, "dc_pruned_acc": self.accuracy(weights)}
        for bits in self.settings.bits:
            row.update(self.quantised(weights, mask, bits, entries, dense_bits))
        for codec, bounds in (("sz3", self.settings.sz3_bounds),
                              ("zfp", self.settings.zfp_tolerances)):
            for bound in bounds:
                row.update(self.lossy(weights, mask, codec, bound, dense_bits))
        return row

    def quantised(self, weights: StateDict, mask: Mask, bits: int, entries: dict[str, int],
                  dense_bits: int) -> dict:
        shared = quantise(weights, mask, bits)
        untuned = self.accuracy(shared_weights(weights, mask, shared))
        tuned = finetune_centroids(self.model, weights, mask, shared, self.dataset,
                                   self.train_batch, self.settings.finetune_iterations,
                                   self.settings.finetune_lr, self.data_seed)
        expected = shared_weights(weights, mask, tuned)
        blob, decoded = round_trip(weights, mask, self.settings.index_bits,
                                   ValueCoding("kmeans", shared=tuned))
        if any(not torch.equal(decoded[name], expected[name]) for name in expected):
            raise RuntimeError("the decoded file differs from the quantised weights")
        fixed_bits = sum(count * (bits + self.settings.index_bits) + FLOAT_BITS * 2 ** bits
                         for count in entries.values())
        coded_bits = sparse_payload_bits(blob)
        return {f"dc_q{bits}_bits": fixed_bits, f"dc_q{bits}_ratio": dense_bits / fixed_bits,
                f"dc_q{bits}_untuned_acc": untuned, f"dc_q{bits}_acc": self.accuracy(decoded),
                f"dc_h{bits}_bits": coded_bits, f"dc_h{bits}_ratio": dense_bits / coded_bits,
                f"dc_h{bits}_file_ratio": file_ratio(weights, blob),
                f"dc_h{bits}_file_bits": 8 * len(blob)}

    def lossy(self, weights: StateDict, mask: Mask, codec: str, bound: float,
              dense_bits: int) -> dict:
        blob, decoded = round_trip(weights, mask, self.settings.index_bits,
                                   ValueCoding(codec, bound=bound))
        coded_bits = sparse_payload_bits(blob)
        prefix = f"dc_{codec}_{bound_key(bound)}"
        return {f"{prefix}_bits": coded_bits, f"{prefix}_ratio": dense_bits / coded_bits,
                f"{prefix}_file_ratio": file_ratio(weights, blob),
                f"{prefix}_acc": self.accuracy(decoded)}


def round_trip(weights: StateDict, mask: Mask, gap_bits: int,
               coding: ValueCoding) -> tuple[bytes, StateDict]:
    """Write the compressed file, read it back and decode it: (its bytes, the weights)."""
    cpu = {name: value.detach().cpu() for name, value in weights.items()}
    keep = {name: value.cpu() for name, value in mask.items()}
    with tempfile.TemporaryDirectory(prefix="dcz-") as folder:
        path = Path(folder) / "model.dcz"
        path.write_bytes(encode_model(cpu, keep, gap_bits, coding))
        blob = path.read_bytes()
    return blob, decode_model(blob)


def file_ratio(weights: StateDict, blob: bytes) -> float:
    """All parameters at 32 bits over the whole file."""
    return FLOAT_BITS * sum(value.numel() for value in weights.values()) / (8 * len(blob))
