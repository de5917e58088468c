"""Error-bounded lossy compression of a layer's kept weight values (DeepSZ, Jin et al. 2019):
SZ3 through ``pysz`` with an absolute error bound, and ZFP through ``zfpy`` in fixed-accuracy
mode. Both guarantee |decoded - value| <= bound for every value (a test checks it).

Values are a 1-D float32 array: the kept weights of one layer in row-major order, the same
order as the layer's sparse index entries (experiments/compression/sparse_index.py).
"""

from __future__ import annotations

import numpy as np

CODECS = ("sz3", "zfp")


def compress(values: np.ndarray, codec: str, bound: float) -> bytes:
    values = np.ascontiguousarray(values, dtype=np.float32)
    if codec == "sz3":
        import pysz
        config = pysz.szConfig(values.shape)
        config.errorBoundMode = pysz.szErrorBoundMode.ABS
        config.absErrorBound = bound
        compressed, _ = pysz.sz.compress(values, config)
        return compressed.tobytes()
    if codec == "zfp":
        import zfpy
        return zfpy.compress_numpy(values, tolerance=bound)
    raise ValueError(f"unknown lossy codec {codec!r} (known: {', '.join(CODECS)})")


def decompress(blob: bytes, codec: str, count: int) -> np.ndarray:
    """The ``count`` float32 values ``compress`` coded as ``blob``."""
    if codec == "sz3":
        import pysz
        values, _ = pysz.sz.decompress(np.frombuffer(blob, dtype=np.uint8), np.float32, (count,))
        return np.asarray(values, dtype=np.float32)
    if codec == "zfp":
        import zfpy
        return np.asarray(zfpy.decompress_numpy(blob), dtype=np.float32).reshape(count)
    raise ValueError(f"unknown lossy codec {codec!r} (known: {', '.join(CODECS)})")
