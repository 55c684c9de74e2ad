"""Whole-object checkpoints: one file holding a pickle whose tensors are stored out of band as raw bytes.

    [8 bytes: MAGIC][8 bytes: N, little-endian u64][N bytes: UTF-8 JSON table, space-padded to 8]
    [P bytes: the pickle][zero padding][data: each tensor's C-contiguous bytes at a 64-byte-aligned offset]

The table is ``{"format": "lamina.pickle", "version": 1, "byteorder": "little", "pickle": P,
"tensors": [[dtype name, shape, offset, nbytes], ...]}``; offsets count from the data start, the
first 64-byte boundary after the pickle. Inside the pickle a tensor (Tensor, Parameter, Buffer
or a subclass that keeps their pickling) is ``_rebuild_tensor(cls, <persistent id "i">, device,
requires_grad, __dict__)``: the id names row ``i`` of the table, so no NumPy object is ever
pickled. The table is checked against the real file size before the pickle is read; a tensor
seen twice in the object (tied weights) is stored once and loads as one tensor; distinct views
of one storage load as independent tensors.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import sys
from collections.abc import Callable
from typing import IO, Any

import numpy as np

from .._base import dtype as _dtype
from .._base.errors import CheckpointError, CheckpointFormatError, CheckpointHeaderError, CheckpointTruncatedError
from .._tensor.base import TensorBase
from ..backends import device as _device
from . import _format
from ._safe_globals import WeightsOnlyError, WeightsOnlyUnpickler, allowed_globals

MAGIC = b"\x89LAMINA\x01"
ALIGN = 64
_REBUILD_KEY = f"{__name__}._rebuild_tensor"


def _aligned(n: int) -> int:
    return -(-n // ALIGN) * ALIGN


# --- save ---------------------------------------------------------------------------------------
class _Stored(int):
    """The index of a tensor's row in the table; pickled as a persistent id."""


class _Pickler(pickle.Pickler):
    def __init__(self, f: IO[bytes], protocol: int) -> None:
        super().__init__(f, protocol)
        from ..nn.parameter import Buffer, Parameter

        self._own = {TensorBase.__reduce_ex__, Parameter.__reduce_ex__, Buffer.__reduce_ex__}
        self.rows: list[list] = []
        self.arrays: list[np.ndarray] = []

    def reducer_override(self, obj: Any) -> Any:
        if not isinstance(obj, TensorBase) or type(obj).__reduce_ex__ not in self._own:
            return NotImplemented  # sparse, uninitialized and other tensors pickle their own way
        a = obj.device.backend.to_host(obj._data)
        a = a if a.flags.c_contiguous else a.copy(order="C")
        self.rows.append([obj.dtype.name, list(a.shape)])
        self.arrays.append(a)
        state = dict(getattr(obj, "__dict__", None) or {})
        return (_rebuild_tensor, (type(obj), _Stored(len(self.arrays) - 1), str(obj.device), obj.requires_grad,
                                  state))

    def persistent_id(self, obj: Any) -> Any:
        return str(int(obj)) if type(obj) is _Stored else None  # a str: protocol 0 allows nothing else


def dump(obj: Any, protocol: int) -> Callable[[IO[bytes]], None]:
    """Pickle ``obj`` now (errors surface before any file is touched); returns the writer of the file."""
    buf = io.BytesIO()
    pickler = _Pickler(buf, protocol)
    pickler.dump(obj)
    pickled = buf.getvalue()
    offset = 0
    for row, a in zip(pickler.rows, pickler.arrays):
        offset = _aligned(offset)
        row += [offset, a.nbytes]
        offset += a.nbytes
    table = json.dumps({"format": "lamina.pickle", "version": 1, "byteorder": sys.byteorder,
                        "pickle": len(pickled), "tensors": pickler.rows}, separators=(",", ":")).encode()
    table += b" " * (-len(table) % 8)
    head = MAGIC + len(table).to_bytes(8, "little") + table + pickled

    def write(fh: IO[bytes]) -> None:
        fh.write(head)
        pos = 0
        fh.write(bytes(_aligned(len(head)) - len(head)))
        for (_, _, begin, nbytes), a in zip(pickler.rows, pickler.arrays):
            fh.write(bytes(begin - pos))
            _format.write_arrays(fh, [a])
            pos = begin + nbytes

    return write


def _rebuild_tensor(cls: type, data: np.ndarray, dev: str, requires_grad: bool, state: dict) -> Any:
    """A tensor of class ``cls`` on the CPU over ``data`` (placed by the loader afterwards)."""
    from .._tensor.base import _init_from
    from ..nn.parameter import Buffer, Parameter
    from ..ops.tensor import Tensor

    cpu = _device("cpu")
    t = Tensor._make(cpu.backend.from_host(data, cpu.index), cpu)
    state = dict(state)
    if issubclass(cls, Parameter):
        out = cls.__new__(cls, t, requires_grad)
    elif issubclass(cls, Buffer):
        out = cls.__new__(cls, t, persistent=state.pop("persistent", True))
    else:
        out = cls.__new__(cls)
        _init_from(out, t._data, cpu, requires_grad)
    if state:
        out.__dict__.update(state)
    return out


# --- load ---------------------------------------------------------------------------------------
def load(f: IO[bytes], name: str, place: Callable[[Any, str], Any], weights_only: bool,
         mmap_path: str | None, load_args: dict) -> Any:
    """Read a container at ``f``'s position; ``place(cpu_tensor, saved_location)`` moves each tensor."""
    start = f.tell()
    size = f.seek(0, os.SEEK_END) - start
    f.seek(start + len(MAGIC))
    n = int.from_bytes(f.read(8), "little")
    if size < 16 or 16 + n > size or n > _format.MAX_HEADER_BYTES:
        raise CheckpointTruncatedError(f"lamina.load: {name}: the table length field says {n} bytes but the "
                                       f"file holds {size} in all (truncated or corrupt file)")
    try:
        table = _format.parse_json(f.read(n), "the whole-object table")
        rows, pickle_size = _check_table(table)
    except _format.HeaderProblem as e:
        raise CheckpointHeaderError(f"lamina.load: {name}: {e}") from None
    data_start = _aligned(16 + n + pickle_size)
    end = max((begin + nbytes for *_, begin, nbytes in rows), default=0)
    if 16 + n + pickle_size > size or (rows and data_start + end > size):
        raise CheckpointTruncatedError(f"lamina.load: {name}: the table describes {data_start + end} bytes but the "
                                       f"file holds {size} (truncated file)")
    pickled = f.read(pickle_size)

    def persistent_load(pid: Any) -> np.ndarray:
        if not (isinstance(pid, str) and pid.isdigit() and int(pid) < len(rows)):
            raise CheckpointFormatError(f"lamina.load: {name}: the pickle refers to tensor {pid!r}, which is not "
                                        f"in the table of {len(rows)}")
        np_dtype, shape, begin, nbytes = rows[int(pid)]
        if mmap_path is not None and nbytes:  # copy-on-write: writes to the tensor never reach the file
            return np.memmap(mmap_path, np_dtype, "c", start + data_start + begin, shape).view(np.ndarray)
        f.seek(start + data_start + begin)
        a = np.empty(shape, np_dtype)
        if f.readinto(memoryview(a.reshape(-1).view(np.uint8))) != nbytes:  # (sizes were checked: a shrunk file)
            raise CheckpointTruncatedError(f"lamina.load: {name}: the file ended inside a tensor")
        return a

    def rebuild(cls: Any, data: Any, dev: Any, requires_grad: Any, state: Any) -> Any:
        if not (isinstance(cls, type) and issubclass(cls, TensorBase) and isinstance(data, np.ndarray)
                and isinstance(dev, str) and isinstance(requires_grad, bool) and isinstance(state, dict)):
            raise CheckpointFormatError(f"lamina.load: {name}: malformed tensor record in the pickle")
        return place(_rebuild_tensor(cls, data, dev, requires_grad, state), dev)

    src = io.BytesIO(pickled)
    if weights_only:
        try:
            return WeightsOnlyUnpickler(src, name, allowed_globals({_REBUILD_KEY: rebuild}), persistent_load,
                                        **load_args).load()
        except CheckpointError:  # WeightsOnlyError included; these name the file already
            raise
        except Exception as e:  # a malformed pickle, or an allowed callable refusing its arguments
            raise WeightsOnlyError(f"lamina.load: weights-only load of {name} failed: {type(e).__name__}: {e}") from e
    try:
        return _FullUnpickler(src, rebuild, persistent_load, **load_args).load()
    except (pickle.UnpicklingError, EOFError) as e:
        raise CheckpointFormatError(f"lamina.load: {name} could not be unpickled ({type(e).__name__}: {e}); it is "
                                    "truncated or corrupt") from e


class _FullUnpickler(pickle.Unpickler):
    def __init__(self, f: IO[bytes], rebuild: Callable, persistent_load: Callable, **kwargs: Any) -> None:
        super().__init__(f, **kwargs)
        self.rebuild, self.persistent_load = rebuild, persistent_load

    def find_class(self, module: str, name: str) -> Any:
        return self.rebuild if f"{module}.{name}" == _REBUILD_KEY else super().find_class(module, name)


def _check_table(table: Any) -> tuple[list[tuple[np.dtype, tuple, int, int]], int]:
    table = table if isinstance(table, dict) else {}
    for key, want in (("format", "lamina.pickle"), ("version", 1), ("byteorder", sys.byteorder)):
        if table.get(key) != want:  # another writer, a newer lamina, or another machine's byte order
            raise _format.HeaderProblem(f"the whole-object table has {key} {table.get(key)!r}; this lamina reads "
                                        f"{want!r}")
    pickle_size, rows = table.get("pickle"), table.get("tensors")
    if type(pickle_size) is not int or pickle_size < 0 or not isinstance(rows, list):
        raise _format.HeaderProblem("the table needs 'pickle' (a byte count) and 'tensors' (a list)")
    out = []
    for i, row in enumerate(rows):
        ok = isinstance(row, list) and len(row) == 4 and row[0] in _dtype._NAMES and isinstance(row[1], list)
        ok = ok and all(type(v) is int and v >= 0 for v in (*row[1], row[2], row[3])) and len(row[1]) <= 64
        np_dtype = _dtype.to_np(_dtype._NAMES[row[0]]) if ok else None
        if not ok or int(np.prod(row[1], dtype=object)) * np_dtype.itemsize != row[3]:
            raise _format.HeaderProblem(f"tensor row {i} is malformed: {str(row)[:100]}")
        out.append((np_dtype, tuple(row[1]), row[2], row[3]))
    return out, pickle_size
