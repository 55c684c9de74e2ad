"""Reusable host scratch arrays for convolution (padded inputs, column matrices, GEMM outputs).

A fresh multi-megabyte NumPy array is page-faulted in on first touch; in a conv training step that
was a visible share of the time. Arrays handed out here stay in a small per-thread pool and are
given out again once nothing else references them: the pool checks the reference count, so an
array saved for backward, returned to the caller or viewed by anyone is never reused while alive.
Only NumPy arrays are pooled (CuPy has its own memory pool; other backends just allocate).
"""

from __future__ import annotations

import sys
import threading
from typing import Any

__lamina_plugin_api__ = "1.0"

_MAX_BYTES = 192 << 20   # pooled bytes per thread; beyond that the least recently used free arrays go
_FREE_REFS = 3           # the pool's list, the local name and getrefcount's own argument


class _Pool(threading.local):
    def __init__(self) -> None:
        self.arrays: dict[tuple, list] = {}
        self.nbytes = 0


_pool = _Pool()


def _take(key: tuple) -> Any:
    stack = _pool.arrays.get(key)
    if stack:
        for i in range(len(stack)):
            a = stack[i]
            if sys.getrefcount(a) == _FREE_REFS:
                stack.append(stack.pop(i))  # most recently used last
                return a
    return None


def _trim(xp: Any) -> None:
    for key in list(_pool.arrays):
        stack = _pool.arrays[key]
        i = 0
        while i < len(stack) and _pool.nbytes > _MAX_BYTES:
            a = stack[i]
            if sys.getrefcount(a) == _FREE_REFS:
                _pool.nbytes -= a.nbytes
                del stack[i]
            else:
                i += 1
        if not stack:
            del _pool.arrays[key]
        if _pool.nbytes <= _MAX_BYTES:
            return


def empty(xp: Any, shape: tuple, dtype: Any, tag: Any = None) -> Any:
    """An uninitialised array of ``shape``, reused when a pooled one of that shape and ``tag`` is free.

    Arrays of one ``tag`` keep what callers leave in them: a padded-input buffer whose border is
    only ever written with zeros stays zero-bordered, so the caller need fill only the interior.
    """
    if getattr(xp, "__name__", "") != "numpy":
        return xp.empty(shape, dtype=dtype)
    key = (tag, tuple(shape), xp.dtype(dtype).str)
    a = _take(key)
    if a is not None:
        return a
    a = xp.empty(shape, dtype=dtype)
    if a.nbytes >= 1 << 16:
        _pool.arrays.setdefault(key, []).append(a)
        _pool.nbytes += a.nbytes
        if _pool.nbytes > _MAX_BYTES:
            _trim(xp)
    return a


def padded(xp: Any, x: Any, pads: tuple[tuple[int, int], ...]) -> Any:
    """``x`` zero-padded on its last ``len(pads)`` dims, in a pooled buffer (``x`` itself without pads)."""
    if not any(lo or hi for lo, hi in pads):
        return x
    n = len(pads)
    shape = x.shape[:-n] + tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[-n:], pads))
    key = ("pad", pads, shape, xp.dtype(x.dtype).str) if getattr(xp, "__name__", "") == "numpy" else None
    out = _take(key) if key is not None else None
    if out is None:
        out = xp.zeros(shape, dtype=x.dtype)
        if key is not None and out.nbytes >= 1 << 16:
            _pool.arrays.setdefault(key, []).append(out)
            _pool.nbytes += out.nbytes
            if _pool.nbytes > _MAX_BYTES:
                _trim(xp)
    out[(Ellipsis,) + tuple(slice(lo, lo + s) for s, (lo, _) in zip(x.shape[-n:], pads))] = x
    return out
