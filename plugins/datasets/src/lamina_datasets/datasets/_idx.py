"""The IDX file format (MNIST, Fashion-MNIST), raw or gzip-compressed, with full header validation.

Layout: a 4-byte magic number ``0x00 0x00 T N`` (T: the element type code, N: the number of
dimensions), then N big-endian uint32 dimension sizes, then the elements, big-endian, row-major.
A file is accepted only if its size is exactly the header plus ``prod(dims) * itemsize`` bytes.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib

import numpy as np

__all__ = ["IDXFormatError", "read_idx", "parse_idx", "IDX_TYPES", "GZIP_MAGIC"]

#: type code -> (big-endian NumPy dtype, name)
IDX_TYPES: dict[int, tuple[str, str]] = {
    0x08: (">u1", "uint8"),
    0x09: (">i1", "int8"),
    0x0B: (">i2", "int16"),
    0x0C: (">i4", "int32"),
    0x0D: (">f4", "float32"),
    0x0E: (">f8", "float64"),
}
GZIP_MAGIC = b"\x1f\x8b"
_VALID = ", ".join(f"0x{code:02X} ({name})" for code, (_, name) in IDX_TYPES.items())


class IDXFormatError(ValueError):
    """A file is not a well-formed IDX file; the message names the file and what is wrong."""


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """The array stored in the IDX file at ``path`` (gzip-compressed or not: detected from its bytes)."""
    name = os.fspath(path)
    with open(name, "rb") as fh:
        buf = fh.read()
    if buf[:2] == GZIP_MAGIC:
        try:
            buf = gzip.decompress(buf)
        except (OSError, EOFError, zlib.error) as e:
            raise IDXFormatError(f"{name}: corrupt gzip data ({e})") from e
    return parse_idx(buf, name)


def parse_idx(buf: bytes, name: str = "<bytes>") -> np.ndarray:
    """Decode the IDX bytes ``buf`` into a native-endian array of shape ``dims``; ``name`` labels errors."""
    if len(buf) < 4:
        raise IDXFormatError(f"{name}: not an IDX file: expected at least the 4-byte magic number, "
                             f"got {len(buf)} bytes")
    if buf[0] != 0 or buf[1] != 0:
        raise IDXFormatError(f"{name}: bad IDX magic number 0x{buf[:4].hex().upper()}: expected two zero bytes, "
                             f"a type code and the number of dimensions (0x0000TTNN)")
    code, ndim = buf[2], buf[3]
    if code not in IDX_TYPES:
        raise IDXFormatError(f"{name}: unknown IDX data type code 0x{code:02X}, expected one of {_VALID}")
    if ndim == 0:
        raise IDXFormatError(f"{name}: expected at least 1 dimension in the IDX header, got 0")
    header = 4 + 4 * ndim
    if len(buf) < header:
        raise IDXFormatError(f"{name}: truncated IDX header: {ndim} dimensions need {header} header bytes, "
                             f"got {len(buf)}")
    dims = tuple(int(d) for d in np.frombuffer(buf, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(IDX_TYPES[code][0])
    expected = header + math.prod(dims) * dtype.itemsize
    if len(buf) != expected:
        what = "truncated" if len(buf) < expected else "trailing bytes after the data"
        raise IDXFormatError(f"{name}: size mismatch ({what}): dims {dims} of {IDX_TYPES[code][1]} need "
                             f"{expected} bytes, got {len(buf)}")
    data = np.frombuffer(buf, dtype=dtype, count=math.prod(dims), offset=header)
    return data.reshape(dims).astype(dtype.newbyteorder("="))
