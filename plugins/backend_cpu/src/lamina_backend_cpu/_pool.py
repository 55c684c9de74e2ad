"""The CPU backend's scratch pool (``NumpyBackend.workspace``).

A fresh multi-megabyte NumPy array comes from mmap and is page-faulted in on first touch; in a conv
or LSTM training step that was a visible share of the time (~20% for LSTM(100, 128, num_layers=2)
on (32, 50, 100)). Ops therefore take their scratch arrays from a small per-thread pool, which hands
an array out again only when nothing else references it: it reads the reference count, so an array
saved for backward, returned to the caller or viewed by anyone (a view holds its base) is never
reused while alive. Arrays below ``min_bytes`` are not pooled (malloc serves them without faults).
"""

from __future__ import annotations

import sys
import threading
from typing import Any

import numpy

__lamina_plugin_api__ = "1.0"


def _free_refs() -> int:
    """The reference count of a free pooled array as ``take`` reads it: the pool's list, the loop's
    local name and ``getrefcount``'s argument (3 on CPython 3.10-3.13), measured the same way."""
    stack = [numpy.empty(0)]
    for i in range(len(stack)):
        a = stack[i]
        return sys.getrefcount(a)
    raise AssertionError("unreachable")


_FREE_REFS = _free_refs()


class _Arrays(threading.local):
    def __init__(self) -> None:
        self.stacks: dict[tuple, list] = {}   # key -> arrays, least recently handed out first
        self.nbytes = 0


class ScratchPool:
    """Per-thread stacks of arrays by ``(tag, shape, dtype, zeros)``; at most ``limit`` bytes of free ones."""

    def __init__(self, limit: int = 256 << 20, min_bytes: int = 1 << 16) -> None:
        self.limit, self.min_bytes = limit, min_bytes
        self._local = _Arrays()

    @property
    def nbytes(self) -> int:
        """Bytes held by this thread's pool (arrays in use included)."""
        return self._local.nbytes

    def take(self, shape: Any, dtype: Any, tag: Any = None, zeros: bool = False) -> numpy.ndarray:
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        dtype = numpy.dtype(dtype)
        key = (tag, shape, dtype.str, zeros)
        pool = self._local
        stack = pool.stacks.get(key)
        if stack:
            for i in range(len(stack)):
                a = stack[i]
                if sys.getrefcount(a) == _FREE_REFS:
                    stack.append(stack.pop(i))
                    return a
        a = numpy.zeros(shape, dtype) if zeros else numpy.empty(shape, dtype)
        if self.min_bytes <= a.nbytes <= self.limit:
            pool.stacks.setdefault(key, []).append(a)
            pool.nbytes += a.nbytes
            if pool.nbytes > self.limit:
                self._trim()
        return a

    def _trim(self) -> None:
        """Drop free arrays, least recently handed out first per key, until the pool fits ``limit``."""
        pool = self._local
        for key in list(pool.stacks):
            stack = pool.stacks[key]
            i = 0
            while i < len(stack) and pool.nbytes > self.limit:
                a = stack[i]
                if sys.getrefcount(a) == _FREE_REFS:
                    pool.nbytes -= a.nbytes
                    del stack[i]
                else:
                    i += 1
            if not stack:
                del pool.stacks[key]
            if pool.nbytes <= self.limit:
                return

    def clear(self) -> None:
        """Forget this thread's pooled arrays (those in use stay valid; they are just not reused)."""
        self._local.stacks.clear()
        self._local.nbytes = 0
