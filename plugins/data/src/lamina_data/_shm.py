"""Batches from worker processes to the main process, with tensor data in shared memory.

A worker pickles a batch with ``dumps``: every plain CPU tensor (no autograd) is written to its own
file in ``/dev/shm`` (tmpfs: memory, not disk) and replaced in the pickle by a persistent id
``(name, shape, dtype)``; everything else (ints, strings, dicts) is pickled as usual. The main
process's ``loads`` maps each file, unlinks it at once and wraps the mapping in a NumPy array and a
lamina tensor, so the memory lives exactly as long as that tensor (and its views) and nothing is
left behind in ``/dev/shm``. Files a worker wrote but the main process never read (an epoch cut
short, a killed worker) share the iterator's name prefix and are removed by ``remove_prefix``.
"""

from __future__ import annotations

import io
import mmap
import os
import pickle
import secrets
import tempfile
from itertools import count
from typing import Any

import numpy as np
from lamina import Tensor, from_numpy

__all__: list[str] = []

SHM_DIR = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()
_serial = count()
# MAP_POPULATE maps the pages in one call instead of faulting them in one by one on first touch
_MAP_FLAGS = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)


def new_prefix() -> str:
    """A file-name prefix unique to one DataLoader iterator of this process."""
    return f"lamina_dl_{os.getpid()}_{secrets.token_hex(4)}_{next(_serial)}_"


def remove_prefix(prefix: str) -> None:
    """Unlink every segment whose name starts with ``prefix`` (not received by the main process)."""
    try:
        names = os.listdir(SHM_DIR)
    except OSError:
        return
    for name in names:
        if name.startswith(prefix):
            try:
                os.unlink(os.path.join(SHM_DIR, name))
            except FileNotFoundError:
                pass


def _write_all(fd: int, data: memoryview) -> None:
    while data.nbytes:
        written = os.write(fd, data)
        data = data[written:]


class _Writer(pickle.Pickler):
    """Pickles a batch, sending plain CPU tensors through ``/dev/shm`` files named ``prefix<n>``."""

    def __init__(self, file: io.BytesIO, prefix: str, serial: count) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.prefix = prefix
        self.serial = serial

    def persistent_id(self, obj: Any) -> Any:
        if type(obj) is not Tensor or obj.requires_grad or str(obj.device) != "cpu":
            return None
        arr = obj.numpy()
        if not arr.flags.c_contiguous:
            arr = arr.copy(order="C")  # (np.ascontiguousarray would turn a 0-d array into 1-d)
        if arr.nbytes == 0:
            return None
        name = f"{self.prefix}{next(self.serial)}"
        fd = os.open(os.path.join(SHM_DIR, name), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        try:
            _write_all(fd, memoryview(arr.reshape(-1).view(np.uint8)))
        finally:
            os.close(fd)
        return (name, arr.shape, arr.dtype)


class _Reader(pickle.Unpickler):
    def persistent_load(self, pid: Any) -> Tensor:
        name, shape, dtype = pid
        path = os.path.join(SHM_DIR, name)
        fd = os.open(path, os.O_RDWR)
        try:
            mapping = mmap.mmap(fd, 0, flags=_MAP_FLAGS)
        finally:
            os.close(fd)
            os.unlink(path)
        arr = np.frombuffer(mapping, dtype=dtype, count=int(np.prod(shape, dtype=np.int64))).reshape(shape)
        return from_numpy(arr)


def dumps(obj: Any, prefix: str, serial: count) -> bytes:
    """``obj`` pickled, its tensors written to shared memory (see the module docstring)."""
    buf = io.BytesIO()
    _Writer(buf, prefix, serial).dump(obj)
    return buf.getvalue()


def loads(data: bytes) -> Any:
    """The object ``dumps`` pickled, its tensors mapped from shared memory."""
    return _Reader(io.BytesIO(data)).load()
