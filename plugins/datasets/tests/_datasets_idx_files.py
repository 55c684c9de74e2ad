"""Writers for small IDX files, shared by the dataset tests."""

from __future__ import annotations

import gzip
import os
import struct

import numpy as np

CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(np.int16): 0x0B,
         np.dtype(np.int32): 0x0C, np.dtype(np.float32): 0x0D, np.dtype(np.float64): 0x0E}


def idx_bytes(array: np.ndarray) -> bytes:
    code = CODES[array.dtype]
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write(path: str | os.PathLike, data: bytes, gz: bool = False) -> str:
    path = os.fspath(path) + (".gz" if gz else "")
    with open(path, "wb") as fh:
        fh.write(gzip.compress(data) if gz else data)
    return path


def write_split(folder: str | os.PathLike, train: bool, images: np.ndarray, labels: np.ndarray,
                gz: bool = False) -> None:
    prefix = "train" if train else "t10k"
    os.makedirs(folder, exist_ok=True)
    write(os.path.join(folder, f"{prefix}-images-idx3-ubyte"), idx_bytes(images), gz)
    write(os.path.join(folder, f"{prefix}-labels-idx1-ubyte"), idx_bytes(labels), gz)


def fake_mnist(n: int, seed: int = 0, size: int = 28) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, size, size), dtype=np.uint8), rng.integers(0, 10, n).astype(np.uint8)
