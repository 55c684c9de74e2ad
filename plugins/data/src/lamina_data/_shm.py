"""Batches from worker processes to the main process, with tensor data in reused shared memory.

A worker pickles a batch with ``WorkerSegments.dumps``: every plain CPU tensor (no autograd) of at
least ``INLINE_BYTES`` is copied into a *segment*, a file in ``/dev/shm`` (tmpfs: memory, not disk)
that both processes keep mapped, and is replaced in the pickle by a persistent id; everything else
(ints, strings, small tensors such as a batch of labels) is pickled as usual. The first time the
main process sees a segment it maps the file and unlinks it at once, so nothing is left behind in
``/dev/shm``; from then on the segment is known by its number and costs neither a file nor a
mapping. The tensors the main process builds (``MainSegments.loads``) are views of the segment
that keep it leased: when the last of them (and of their views) is gone, the segment goes back to
its worker with the next task sent there, and is written again. So a steady training loop cycles
through a few segments per worker, already mapped and already paged in. A worker never writes a
segment that the main process still holds, and segments beyond ``_KEEP_FREE`` idle ones per worker
are dropped on both sides. Files a worker created that the main process never mapped (an epoch cut
short, a killed worker) share the iterator's name prefix and are removed by ``remove_prefix``.
"""

from __future__ import annotations

import ctypes
import io
import mmap
import os
import pickle
import secrets
import tempfile
import weakref
from collections.abc import Sequence
from itertools import count
from typing import Any

import numpy as np
from lamina import Tensor, from_numpy

__all__: list[str] = []

SHM_DIR = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()
INLINE_BYTES = 1 << 14  # smaller tensors are pickled with the message: a file would cost more
_KEEP_FREE = 4          # idle segments kept per worker beyond those in use; more are dropped
_PAGE = mmap.PAGESIZE
_serial = count()
# MAP_POPULATE maps the pages in one call instead of faulting them in one by one on first touch
_MAP_FLAGS = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)


def new_prefix() -> str:
    """A file-name prefix unique to one DataLoader iterator of this process."""
    return f"lamina_dl_{os.getpid()}_{secrets.token_hex(4)}_{next(_serial)}_"


def remove_prefix(prefix: str) -> None:
    """Unlink every segment whose name starts with ``prefix`` (not mapped by the main process)."""
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


def _map(path: str, size: int, create: bool) -> mmap.mmap:
    flags = os.O_RDWR | (os.O_CREAT | os.O_EXCL if create else 0)
    fd = os.open(path, flags, 0o600)
    try:
        if create:
            os.ftruncate(fd, size)
        return mmap.mmap(fd, size, flags=mmap.MAP_SHARED if create else _MAP_FLAGS)
    finally:
        os.close(fd)


class WorkerSegments:
    """A worker's side: its segments, which of them the main process has given back, and ``dumps``."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._serial = count()
        self._maps: dict[int, mmap.mmap] = {}   # segment number -> mapping
        self._free: list[int] = []               # given back by the main process, not written since
        self._unsent: dict[int, str] = {}        # free segments whose file the main process never mapped
        # taken for the message being built, not sent yet: address of the data -> (segment, bytes);
        # ``empty`` adds the batches default_collate stacks in place, ``dumps`` the tensors it copies
        self._taken: dict[int, tuple[int, int]] = {}

    def release(self, returned: list[tuple[int, bool]]) -> None:
        """Segments the main process no longer holds: (number, keep) — written again, or dropped."""
        for seg, keep in returned:
            if keep:
                self._free.append(seg)
            else:
                self._maps.pop(seg).close()

    def empty(self, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        """An array in a segment of its own, for ``default_collate`` to stack a batch into: sent
        without a copy if it reaches ``dumps`` whole, else the segment is free again after it."""
        size = int(np.prod(shape, dtype=np.int64))
        fits = [s for s in self._free if len(self._maps[s]) >= size * dtype.itemsize]
        if fits:
            seg = min(fits, key=lambda s: len(self._maps[s]))
            self._free.remove(seg)
        else:
            seg = next(self._serial)
            self._unsent[seg] = f"{self.prefix}{seg}"
            pages = -(-size * dtype.itemsize // _PAGE) or 1
            self._maps[seg] = _map(os.path.join(SHM_DIR, self._unsent[seg]), pages * _PAGE, create=True)
        arr = np.frombuffer(self._maps[seg], dtype=dtype, count=size).reshape(shape)
        self._taken[arr.ctypes.data] = (seg, arr.nbytes)
        return arr

    def _persistent_id(self, arr: np.ndarray, sent: list[tuple[int, str | None]]) -> tuple:
        """The id of ``arr`` in the message: in place if ``empty`` made it, else copied into a segment."""
        key = arr.ctypes.data
        found = self._taken.get(key)
        if found is None or found[1] != arr.nbytes or not arr.flags.c_contiguous:
            dst = self.empty(arr.shape, arr.dtype)
            np.copyto(dst, arr)
            key = dst.ctypes.data
        seg, _ = self._taken.pop(key)
        name = self._unsent.pop(seg, None)
        sent.append((seg, name))
        return (seg, name, arr.shape, arr.dtype)

    def dumps(self, obj: Any) -> bytes:
        """``obj`` pickled, its large tensors in segments (see the module docstring)."""
        buf = io.BytesIO()
        sent: list[tuple[int, str | None]] = []
        try:
            _Writer(buf, self, sent).dump(obj)
        except BaseException:
            for seg, name in sent:  # not sent after all: free again, and still unknown to the main process
                self._free.append(seg)
                if name is not None:
                    self._unsent[seg] = name
            raise
        finally:  # collated in place but not part of the message (a collate_fn made something else of it)
            self._free.extend(seg for seg, _ in self._taken.values())
            self._taken.clear()
        return buf.getvalue()


_worker_segments: WorkerSegments | None = None  # set in a worker process: where batches are stacked


def stack_in_place(items: Sequence[Any]) -> Tensor | None:
    """In a worker, ``items`` (CPU tensors without autograd, or NumPy arrays, all of one shape and
    dtype) stacked straight into a segment, so the batch goes to the main process without a copy.
    None when not in a worker, when the stack is small, or when the items need ``lamina.stack``."""
    segments = _worker_segments
    if segments is None:
        return None
    arrays: list[np.ndarray] = []
    for item in items:
        if type(item) is Tensor:
            if item.requires_grad or str(item.device) != "cpu":
                return None
            item = item.numpy()
        if not isinstance(item, np.ndarray):
            return None
        if arrays and (item.shape != arrays[0].shape or item.dtype != arrays[0].dtype):
            return None
        arrays.append(item)
    if arrays[0].nbytes * len(arrays) < INLINE_BYTES:
        return None
    out = segments.empty((len(arrays), *arrays[0].shape), arrays[0].dtype)
    np.stack(arrays, out=out)
    return from_numpy(out)


class _Writer(pickle.Pickler):
    def __init__(self, file: io.BytesIO, segments: WorkerSegments, sent: list[tuple[int, str | None]]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.segments = segments
        self.sent = sent

    def persistent_id(self, obj: Any) -> Any:
        if type(obj) is not Tensor or obj.requires_grad or str(obj.device) != "cpu":
            return None
        arr = obj.numpy()
        if arr.nbytes < INLINE_BYTES:
            return None
        return self.segments._persistent_id(arr, self.sent)


class MainSegments:
    """The main process's side for one worker: its segments' mappings, leases and ``loads``."""

    def __init__(self) -> None:
        self._maps: dict[int, mmap.mmap] = {}
        self._leased: set[int] = set()                # segments some tensor of the main process views
        self._returned: list[tuple[int, bool]] = []   # to send to the worker with its next task
        self._closed = False

    def take_returned(self) -> list[tuple[int, bool]]:
        """The segments given back since the last call, for the worker (see ``WorkerSegments.release``)."""
        out, self._returned = self._returned, []
        return out

    def close(self) -> None:
        """The worker is gone: unmap the idle segments now, each leased one when its lease ends."""
        self._closed = True
        for seg in [s for s in self._maps if s not in self._leased]:
            del self._maps[seg]

    def _give_back(self, seg: int) -> None:  # a lease's finalizer: any thread, at any time
        self._leased.discard(seg)
        keep = not self._closed and len(self._maps) - len(self._leased) <= _KEEP_FREE
        if not keep:
            self._maps.pop(seg, None)
        self._returned.append((seg, keep))

    def _view(self, pid: Any) -> Tensor:
        seg, name, shape, dtype = pid
        if name is not None:
            path = os.path.join(SHM_DIR, name)
            try:
                self._maps[seg] = _map(path, 0, create=False)
            finally:
                os.unlink(path)
        self._leased.add(seg)
        dtype = np.dtype(dtype)
        nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        # the lease: a ctypes view of the segment's bytes, the buffer every array of this tensor (and
        # of its views) rests on, so it lives (and the segment stays leased) as long as any of them
        lease = (ctypes.c_ubyte * nbytes).from_buffer(self._maps[seg])
        weakref.finalize(lease, self._give_back, seg).atexit = False
        return from_numpy(np.frombuffer(lease, dtype=dtype).reshape(shape))

    def loads(self, data: bytes) -> Any:
        """The object a worker's ``dumps`` pickled, its tensors leased from the segments."""
        reader = pickle.Unpickler(io.BytesIO(data))
        reader.persistent_load = self._view  # type: ignore[assignment]
        return reader.load()
