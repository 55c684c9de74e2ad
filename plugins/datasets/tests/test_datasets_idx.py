"""The IDX reader: round trips for every element type, raw and gzip, and every header error."""

from __future__ import annotations

import gzip
import re
import struct

import numpy as np
import pytest
from _datasets_idx_files import idx_bytes, write
from lamina_datasets.datasets import IDXFormatError, parse_idx, read_idx

CASES = [
    (np.uint8, (5,)), (np.uint8, (3, 4, 5)), (np.int8, (2, 3)), (np.int16, (4, 3)), (np.int32, (2, 2, 2)),
    (np.float32, (7,)), (np.float64, (2, 3)), (np.uint8, (0, 28, 28)), (np.int16, (1, 1, 1, 2)),
]


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
@pytest.mark.parametrize("dtype,shape", CASES)
def test_round_trip(tmp_path, dtype, shape, gz):
    rng = np.random.default_rng(0)
    info = np.iinfo(dtype) if np.issubdtype(dtype, np.integer) else None
    a = (rng.integers(info.min, int(info.max) + 1, shape) if info else rng.standard_normal(shape)).astype(dtype)
    path = write(tmp_path / "a-idx", idx_bytes(a), gz)
    b = read_idx(path)
    assert b.dtype == a.dtype and b.dtype.isnative and b.shape == a.shape
    np.testing.assert_array_equal(a, b)
    assert b.flags.writeable


def test_big_endian_on_disk():
    assert parse_idx(bytes([0, 0, 0x0B, 1, 0, 0, 0, 2, 0x01, 0x02, 0xFF, 0xFE])).tolist() == [258, -2]


def _header(code: int, dims: tuple[int, ...]) -> bytes:
    return bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)


ERRORS = [
    ("empty", b"", r"not an IDX file: expected at least the 4-byte magic number, got 0 bytes"),
    ("three bytes", b"\x00\x00\x08", r"not an IDX file: .* got 3 bytes"),
    ("bad magic", b"\x00\x01\x08\x01" + bytes(4), r"bad IDX magic number 0x00010801"),
    ("text file", b"hello world", r"bad IDX magic number 0x68656C6C"),
    ("unknown type", _header(0x0A, (1,)) + b"\x00", r"unknown IDX data type code 0x0A, expected one of 0x08"),
    ("zero dims", b"\x00\x00\x08\x00", r"expected at least 1 dimension in the IDX header, got 0"),
    ("truncated header", _header(0x08, (2, 3))[:9], r"truncated IDX header: 2 dimensions need 12 header bytes, got 9"),
    ("truncated data", _header(0x08, (2, 3)) + bytes(5),
     r"size mismatch \(truncated\): dims \(2, 3\) of uint8 need 18 bytes, got 17"),
    ("trailing bytes", _header(0x0C, (2,)) + bytes(9),
     r"size mismatch \(trailing bytes after the data\): dims \(2,\) of int32 need 16 bytes, got 17"),
    ("huge dims", _header(0x08, (2**31, 2**31)),
     r"size mismatch \(truncated\): .* need 4611686018427387916 bytes, got 12"),
]


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
@pytest.mark.parametrize("label,data,match", ERRORS, ids=[e[0] for e in ERRORS])
def test_header_errors_name_the_file(tmp_path, label, data, match, gz):
    path = write(tmp_path / "broken-idx1-ubyte", data, gz)
    with pytest.raises(IDXFormatError, match=re.escape(path) + ": " + match):
        read_idx(path)


@pytest.mark.parametrize("cut", [3, 10, 30])
def test_corrupt_gzip(tmp_path, cut):
    blob = gzip.compress(idx_bytes(np.arange(100, dtype=np.uint8)))
    path = write(tmp_path / "cut-idx1-ubyte.gz", blob[:cut])
    with pytest.raises(IDXFormatError, match=re.escape(path) + r": corrupt gzip data"):
        read_idx(path)


def test_gzip_detected_from_bytes_not_name(tmp_path):
    a = np.arange(6, dtype=np.uint8).reshape(2, 3)
    raw_named_gz = write(tmp_path / "raw-idx2-ubyte.gz", idx_bytes(a))
    gz_named_raw = write(tmp_path / "gz-idx2-ubyte", gzip.compress(idx_bytes(a)))
    np.testing.assert_array_equal(read_idx(raw_named_gz), a)
    np.testing.assert_array_equal(read_idx(gz_named_raw), a)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "nope")


def test_idx_format_error_is_value_error():
    assert issubclass(IDXFormatError, ValueError)
