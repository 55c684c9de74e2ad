"""Reusable host scratch arrays for the fused recurrent Functions.

Fresh multi-megabyte NumPy arrays come from mmap and are page-faulted in on first touch: a training
step of LSTM(100, 128, num_layers=2) on (32, 50, 100) spent ~20% of its time in the kernel doing
that. Arrays that never leave a Function (gate activations and states saved for backward, backward
scratch) are therefore taken from a small per-thread pool and given back when the Function's
graph node dies (saved arrays) or when backward ends (scratch). CuPy has its own memory pool, so on
other backends this module just allocates.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

__lamina_plugin_api__ = "1.0"

_MAX_BYTES = 256 << 20   # pooled bytes per thread; beyond that, returned arrays are simply dropped


class _Pool(threading.local):
    def __init__(self) -> None:
        self.free: dict[tuple, list] = {}
        self.nbytes = 0


_pool = _Pool()


def _pooled(xp: Any) -> bool:
    return getattr(xp, "__name__", "") == "numpy"


def empty(xp: Any, shape: tuple, dtype: Any) -> Any:
    """An uninitialised array of ``shape``, reused from the pool when one is free."""
    if _pooled(xp):
        stack = _pool.free.get((tuple(shape), xp.dtype(dtype).str))
        if stack:
            a = stack.pop()
            _pool.nbytes -= a.nbytes
            return a
    return xp.empty(shape, dtype=dtype)


def release(*arrays: Any) -> None:
    """Give arrays back (only whole arrays the caller owns and no one else references)."""
    for a in arrays:
        if a is None or type(a).__module__ != "numpy" or a.base is not None:
            continue
        if _pool.nbytes + a.nbytes > _MAX_BYTES:
            continue
        _pool.free.setdefault((a.shape, a.dtype.str), []).append(a)
        _pool.nbytes += a.nbytes


def release_with(owner: Any, *arrays: Any) -> None:
    """Give ``arrays`` back once ``owner`` (a Function's ctx holding them as saved values) is gone."""
    weakref.finalize(owner, release, *arrays)
