"""The safetensors layout: build, parse and validate the header; write and read the data buffer.

    [8 bytes: N, little-endian u64][N bytes: UTF-8 JSON header, space-padded][data buffer]

The header maps each tensor name to ``{"dtype", "shape", "data_offsets": [begin, end]}`` (offsets
relative to the buffer start) plus an optional ``"__metadata__"`` str -> str map. Every check
runs on the header alone, against the real file size, before a single tensor byte is allocated.
"""

from __future__ import annotations

import json
import sys
from typing import IO, Any

import numpy as np

from .._base import dtype as _dtype
from .._base.errors import CheckpointTruncatedError

MAX_HEADER_BYTES = 100_000_000  # as the safetensors reference implementation
MAX_DIM = 2**63 - 1
MAX_NDIM = 64  # NumPy's limit

# safetensors dtype code -> (NumPy little-endian dtype of the stored bytes, itemsize)
DTYPES = {
    "F16": np.dtype("<f2"), "F32": np.dtype("<f4"), "F64": np.dtype("<f8"),
    "I8": np.dtype("i1"), "I16": np.dtype("<i2"), "I32": np.dtype("<i4"), "I64": np.dtype("<i8"),
    "U8": np.dtype("u1"), "BOOL": np.dtype("?"), "C64": np.dtype("<c8"),
    "BF16": np.dtype("<u2"),  # read as raw 16-bit words, then viewed as lamina.bfloat16
}
# safetensors dtypes lamina has no tensor type for: named in the error instead of "unknown dtype"
UNSUPPORTED = {"U16", "U32", "U64", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4", "C128"}
CODE_OF = {np.dtype(k): v for k, v in [
    ("float16", "F16"), ("float32", "F32"), ("float64", "F64"), ("int8", "I8"), ("int16", "I16"),
    ("int32", "I32"), ("int64", "I64"), ("uint8", "U8"), ("bool", "BOOL"), ("complex64", "C64")]}


class HeaderProblem(Exception):
    """Internal: a header defect, turned into CheckpointHeaderError by the caller."""


# --- writing ------------------------------------------------------------------------------------
def build_header(entries: list[tuple[str, np.ndarray]], metadata: dict[str, str]) -> bytes:
    """The padded header bytes (length prefix included) for host arrays in buffer order."""
    header: dict[str, Any] = {"__metadata__": metadata}
    offset = 0
    for name, a in entries:
        header[name] = {"dtype": code_of(a), "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    try:
        text = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates in a key: escape them (still valid JSON)
        text = json.dumps(header, separators=(",", ":")).encode("ascii")
    text += b" " * (-len(text) % 8)  # the buffer starts 8-byte aligned, as safetensors writes it
    return len(text).to_bytes(8, "little") + text


def write_arrays(f: IO[bytes], arrays: list[np.ndarray]) -> None:
    """Write each C-contiguous little-endian array's bytes in order (tests patch this to crash)."""
    for a in arrays:
        if a.nbytes:
            f.write(a.reshape(-1).view(np.uint8).data)


def code_of(a: np.ndarray) -> str:
    """The safetensors dtype code of a stored array (bfloat16 arrays are stored as their 16-bit words)."""
    return "BF16" if a.dtype.kind == "V" else CODE_OF[a.dtype]


def to_stored(a: np.ndarray, what: str) -> np.ndarray:
    """A C-contiguous little-endian copy-if-needed of a host array; rejects dtypes safetensors lacks."""
    if a.dtype.kind == "V":  # kept as bfloat16 (ml_dtypes' arrays are native-endian 16-bit words)
        a = a.copy(order="C") if not a.flags.c_contiguous else a
        return a if sys.byteorder == "little" else a.view(np.uint16).byteswap().view(a.dtype)
    if a.dtype not in CODE_OF:
        raise TypeError(f"lamina.save: tensor {what} has dtype {a.dtype}, which the safetensors format cannot "
                        f"store; supported: {', '.join(sorted(str(d) for d in CODE_OF))}")
    if not a.flags.c_contiguous:  # (not np.ascontiguousarray: it turns 0-d arrays into 1-d ones)
        a = a.copy(order="C")
    if a.dtype.byteorder == ">" or (a.dtype.byteorder == "=" and sys.byteorder == "big"):
        a = a.astype(a.dtype.newbyteorder("<"))
    return a


# --- reading ------------------------------------------------------------------------------------
def _no_duplicates(pairs: list) -> dict:
    d = {}
    for k, v in pairs:
        if k in d:
            raise HeaderProblem(f"duplicate key {k!r} in the JSON")
        d[k] = v
    return d


def _reject_constant(name: str) -> Any:
    raise HeaderProblem(f"non-standard JSON constant {name}")


def parse_json(raw: bytes | str, what: str) -> Any:
    """Strict JSON: UTF-8, no duplicate keys, no NaN/Infinity; depth bombs become HeaderProblem."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except HeaderProblem as e:
        raise HeaderProblem(f"{what}: {e}") from None
    except UnicodeDecodeError as e:
        raise HeaderProblem(f"{what} is not valid UTF-8 ({e.reason} at byte {e.start})") from None
    except RecursionError:
        raise HeaderProblem(f"{what} is nested too deeply") from None
    except ValueError as e:  # JSONDecodeError, and int literals beyond Python's digit limit
        raise HeaderProblem(f"{what} is not valid JSON ({e})") from None


def _int(v: Any) -> bool:
    return type(v) is int


def validate(header: Any, buffer_size: int) -> tuple[dict[str, str], list[tuple[str, str, tuple, int, int]]]:
    """Check a parsed header against the data buffer size.

    Returns (metadata, [(name, dtype code, shape, begin, end)] in header order). Raises
    HeaderProblem, or CheckpointTruncatedError (without the file name) when the buffer is short.
    """
    if not isinstance(header, dict):
        raise HeaderProblem(f"the header must be a JSON object, got a JSON {type(header).__name__}")
    metadata = header.get("__metadata__", {})
    if not isinstance(metadata, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                 for k, v in metadata.items()):
        raise HeaderProblem("__metadata__ must be a JSON object mapping strings to strings")
    entries = []
    for name, info in header.items():
        if name == "__metadata__":
            continue
        entries.append((name, *_check_entry(name, info)))
    end = 0
    for name, _, _, begin, stop in sorted(entries, key=lambda e: (e[3], e[4])):
        if begin > end:
            raise HeaderProblem(f"tensor {name!r}: data_offsets start at {begin}, leaving a gap after byte {end} "
                                "(tensors must be packed without gaps)")
        if begin < end:
            raise HeaderProblem(f"tensor {name!r}: data_offsets [{begin}, {stop}] overlap another tensor's bytes "
                                f"(which end at {end})")
        end = stop
    if end > buffer_size:
        raise CheckpointTruncatedError(f"the header describes {end} bytes of tensor data but the file holds only "
                                       f"{buffer_size} after the header (truncated or corrupt file)")
    if end < buffer_size:
        raise HeaderProblem(f"the data buffer holds {buffer_size} bytes but the tensors in the header account for "
                            f"{end} (size mismatch)")
    return metadata, entries


def _check_entry(name: str, info: Any) -> tuple[str, tuple, int, int]:
    if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
        got = sorted(info) if isinstance(info, dict) else f"a JSON {type(info).__name__}"
        raise HeaderProblem(f"tensor {name!r}: expected an object with keys dtype, shape, data_offsets; got {got}")
    code, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
    if code not in DTYPES:
        if isinstance(code, str) and code in UNSUPPORTED:
            raise HeaderProblem(f"tensor {name!r}: dtype {code} is a safetensors dtype that lamina does not support; "
                                f"supported: {', '.join(DTYPES)}")
        raise HeaderProblem(f"tensor {name!r}: unknown dtype {code!r}; expected one of {', '.join(DTYPES)}")
    if not isinstance(shape, list) or not all(_int(d) and 0 <= d <= MAX_DIM for d in shape):
        raise HeaderProblem(f"tensor {name!r}: shape must be a list of integers in [0, 2**63), got {shape!r}"[:300])
    if len(shape) > MAX_NDIM:
        raise HeaderProblem(f"tensor {name!r}: shape has {len(shape)} dimensions, at most {MAX_NDIM} are supported")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(_int(o) for o in offsets)
            and 0 <= offsets[0] <= offsets[1]):
        raise HeaderProblem(f"tensor {name!r}: data_offsets must be [begin, end] with 0 <= begin <= end, "
                            f"got {offsets!r}"[:300])
    numel = 1
    for d in shape:
        numel *= d
    nbytes = numel * DTYPES[code].itemsize
    if offsets[1] - offsets[0] != nbytes:
        raise HeaderProblem(f"tensor {name!r}: data_offsets [{offsets[0]}, {offsets[1]}] span "
                            f"{offsets[1] - offsets[0]} bytes, but {code} with shape {shape} needs {nbytes}")
    return code, tuple(shape), offsets[0], offsets[1]


def read_array(f: IO[bytes], code: str, shape: tuple, nbytes: int) -> np.ndarray:
    """Read one tensor's bytes (already validated to lie inside the file) into a new host array."""
    a = np.empty(shape, dtype=DTYPES[code])
    view = memoryview(a.reshape(-1).view(np.uint8))
    got = 0
    while got < nbytes:
        n = f.readinto(view[got:])
        if not n:
            raise CheckpointTruncatedError(f"the file ended after {got} of the {nbytes} bytes of a tensor "
                                           "(was it modified while loading?)")
        got += n
    if code == "BF16":
        a = a.astype(np.uint16).view(_dtype._load_bfloat16())
    elif a.dtype.byteorder not in ("=", "|") and sys.byteorder == "big":
        a = a.astype(a.dtype.newbyteorder("="))
    return a
