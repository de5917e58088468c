"""The compressed-model file: a small container that holds a pruned network's weights after
relative indexing, weight sharing or error-bounded coding, and Huffman coding.

Layout (all integers little-endian)::

    b"DCZ1"                      magic
    uint32 H                     length of the header
    H bytes                      header: UTF-8 JSON (below)
    sections                     the byte strings the header lists, back to back

Header: ``{"gap_bits": k, "tensors": [...]}``, one record per state-dict tensor in order:

- ``{"name", "shape", "kind": "dense", "dtype", "sections": [n]}``: raw values (biases).
- ``{"name", "shape", "kind": "sparse", "entries": E, "gap_freqs": {field: count},
  "values": V, "sections": [...]}``: a pruned layer. Section 1 is the Huffman code of its E gap
  fields (experiments/compression/sparse_index.py). ``V`` says how the values are stored:
  ``{"codec": "kmeans", "bits": b, "value_freqs": {code: count}}`` adds the codebook (2**b
  float32) and the Huffman code of the E value codes (fillers hold code 0, which the decoder
  ignores); ``{"codec": "sz3" | "zfp", "bound": eps}`` adds the codec's stream of the kept values.

Huffman codes are ``dahuffman``'s, rebuilt on reading from the stored symbol counts, so the
header carries each code's table as counts. Everything the decoder needs is in the file.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass

import numpy as np
import torch
from dahuffman import HuffmanCodec

from experiments.compression import lossy
from experiments.compression.sparse_index import decode_positions, encode_gaps

MAGIC = b"DCZ1"


@dataclass(frozen=True)
class Shared:
    """A layer's k-means weight sharing: codebook (2**bits,) and one code per kept weight."""

    centroids: torch.Tensor
    codes: torch.Tensor  # (kept,), in row-major order of the kept positions


@dataclass(frozen=True)
class ValueCoding:
    """How the kept values are stored: ``kmeans`` (with each layer's ``Shared``) or a lossy
    codec at an absolute error ``bound``."""

    codec: str
    bound: float = 0.0
    shared: dict[str, Shared] | None = None


def huffman_encode(symbols: np.ndarray) -> tuple[dict[int, int], bytes]:
    """(symbol counts, Huffman code) of a sequence of non-negative integers."""
    values, counts = np.unique(symbols, return_counts=True)
    freqs = {int(v): int(c) for v, c in zip(values, counts)}
    if not freqs:
        return {}, b""
    return freqs, HuffmanCodec.from_frequencies(freqs).encode([int(s) for s in symbols])


def huffman_decode(freqs: dict, blob: bytes) -> np.ndarray:
    if not freqs:
        return np.zeros(0, dtype=np.int64)
    codec = HuffmanCodec.from_frequencies({int(s): int(c) for s, c in freqs.items()})
    return np.asarray(codec.decode(blob), dtype=np.int64)


def _sparse_record(name: str, weight: torch.Tensor, keep: torch.Tensor, gap_bits: int,
                   coding: ValueCoding) -> tuple[dict, list[bytes]]:
    positions = torch.nonzero(keep.flatten()).flatten().numpy()
    fields = encode_gaps(positions, gap_bits)
    gap_freqs, gap_code = huffman_encode(fields)
    record = {"name": name, "shape": list(weight.shape), "kind": "sparse",
              "entries": len(fields), "gap_freqs": gap_freqs}
    if coding.codec == "kmeans":
        shared = coding.shared[name]
        entry_codes = np.zeros(len(fields), dtype=np.int64)  # fillers: code 0
        entry_codes[fields != 0] = shared.codes.numpy()
        value_freqs, value_code = huffman_encode(entry_codes)
        bits = int(shared.centroids.numel()).bit_length() - 1
        record["values"] = {"codec": "kmeans", "bits": bits, "value_freqs": value_freqs}
        sections = [gap_code, shared.centroids.numpy().astype("<f4").tobytes(), value_code]
    else:
        kept = weight.flatten()[positions].numpy()
        record["values"] = {"codec": coding.codec, "bound": coding.bound}
        sections = [gap_code, lossy.compress(kept, coding.codec, coding.bound) if len(kept)
                    else b""]
    return record, sections


def encode_model(weights: dict[str, torch.Tensor], mask: dict[str, torch.Tensor],
                 gap_bits: int, coding: ValueCoding) -> bytes:
    """The file's bytes for ``weights``: the tensors of ``mask`` sparse, the others dense."""
    records, sections = [], []
    for name, tensor in weights.items():
        if name in mask:
            record, parts = _sparse_record(name, tensor, mask[name].bool(), gap_bits, coding)
        else:
            array = tensor.numpy()
            parts = [array.astype(array.dtype.newbyteorder("<")).tobytes()]
            record = {"name": name, "shape": list(tensor.shape), "kind": "dense",
                      "dtype": array.dtype.str.lstrip("<>|=")}
        record["sections"] = [len(part) for part in parts]
        records.append(record)
        sections.extend(parts)
    header = json.dumps({"gap_bits": gap_bits, "tensors": records},
                        separators=(",", ":")).encode("utf-8")
    return MAGIC + struct.pack("<I", len(header)) + header + b"".join(sections)


def _decode_sparse(record: dict, parts: list[bytes], gap_bits: int) -> torch.Tensor:
    fields = huffman_decode(record["gap_freqs"], parts[0])
    positions = decode_positions(fields, gap_bits)
    values = record["values"]
    if values["codec"] == "kmeans":
        codebook = np.frombuffer(parts[1], dtype="<f4")
        codes = huffman_decode(values["value_freqs"], parts[2])
        kept = codebook[codes[fields != 0]]
    else:
        kept = (lossy.decompress(parts[1], values["codec"], len(positions)) if len(positions)
                else np.zeros(0, dtype=np.float32))
    flat = np.zeros(int(np.prod(record["shape"])), dtype=np.float32)
    flat[positions] = kept
    return torch.from_numpy(flat.reshape(record["shape"]))


def read_header(blob: bytes) -> tuple[dict, int]:
    """(header, offset of the first section) of a file's bytes."""
    if blob[:4] != MAGIC:
        raise ValueError("not a compressed-model file (bad magic)")
    (length,) = struct.unpack("<I", blob[4:8])
    return json.loads(blob[8:8 + length].decode("utf-8")), 8 + length


def sparse_payload_bits(blob: bytes) -> int:
    """Bits of the pruned layers' sections (index, codebook and value streams): what Han et
    al. count as a layer's storage. The header (tables, shapes) and dense tensors are left out."""
    header, _ = read_header(blob)
    return 8 * sum(sum(record["sections"]) for record in header["tensors"]
                   if record["kind"] == "sparse")


def decode_model(blob: bytes) -> dict[str, torch.Tensor]:
    """The state dict that ``encode_model`` wrote into ``blob``."""
    header, offset = read_header(blob)
    weights = {}
    for record in header["tensors"]:
        parts = []
        for size in record["sections"]:
            parts.append(blob[offset:offset + size])
            offset += size
        if record["kind"] == "dense":
            dtype = np.dtype(record["dtype"]).newbyteorder("<")
            array = np.frombuffer(parts[0], dtype=dtype).reshape(record["shape"])
            weights[record["name"]] = torch.from_numpy(array.copy())
        else:
            weights[record["name"]] = _decode_sparse(record, parts, header["gap_bits"])
    return weights
