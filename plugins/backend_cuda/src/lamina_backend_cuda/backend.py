"""The CUDA backend: device type ``cuda``, array namespace ``cupy``.

This module is light: CuPy is imported when the backend is instantiated (after ``probe()``), never
at import. ``CupyBackend(xp=numpy)`` is a test-only stand-in mode: NumPy plays CuPy so that device
parsing, host moves, scoping, random numbers and error mapping run without a GPU.
"""

from __future__ import annotations

import os
from typing import Any

import numpy
from lamina.backends import Backend

from . import _errors
from ._generator import CupyGenerator
from ._probe import probe as _probe

__lamina_plugin_api__ = "1.0"


class CupyBackend(Backend):
    """Runs every op with CuPy on NVIDIA GPUs; arrays are ``cupy.ndarray``, devices ``cuda:N``."""

    name = "cupy"
    device_type = "cuda"
    priority = 0

    @classmethod
    def probe(cls) -> tuple[bool, str]:
        return _probe()

    def __init__(self, *, xp: Any = None, device_count: int | None = None) -> None:
        self.standin = xp is not None
        if xp is None:
            import cupy

            xp = cupy
        self.xp = xp
        self.array_type = xp.ndarray
        self._count = device_count
        self._scopes: dict[int, Any] = {}
        self._peak: dict[int, int] = {}
        #: stand-in mode: the stack of device indices made current (what cupy.cuda.Device does)
        self.current_stack: list[int] = [0]
        if not self.standin:
            self._pool = xp.get_default_memory_pool()
            xp.cuda.set_allocator(_errors.guarded_malloc(self._pool.malloc, self._device_name, self._note_peak))

    # --- devices ------------------------------------------------------------------------------
    def device_count(self) -> int:
        if self._count is None:
            self._count = 1 if self.standin else int(self.xp.cuda.runtime.getDeviceCount())
        return self._count

    def current_device(self) -> int:
        return self.current_stack[-1] if self.standin else int(self.xp.cuda.runtime.getDevice())

    def check_index(self, index: int | None) -> int:
        """The device index to use for ``cuda`` (None: the current device) or ``cuda:N``."""
        if index is None:
            return self.current_device()
        n = self.device_count()
        if not 0 <= index < n:
            raise ValueError(f"cuda: expected a device index in [0, {n}) ({n} device(s) visible), got {index}")
        return index

    def device_scope(self, index: int | None):
        """Make device ``index`` current while arrays are allocated and kernels launch."""
        i = self.check_index(index)
        scope = self._scopes.get(i)
        if scope is None:
            scope = self._scopes[i] = _StandInScope(self.current_stack, i) if self.standin else self.xp.cuda.Device(i)
        return scope

    def _device_name(self) -> str:
        return f"cuda:{self.current_device()}"

    # --- host <-> device ----------------------------------------------------------------------
    def from_host(self, array, index: int | None):
        """Copy a NumPy array onto device ``index`` (always a copy: device memory is separate)."""
        array = numpy.asarray(array)
        scope = self.device_scope(index)
        try:
            with scope:
                return numpy.array(array, copy=True) if self.standin else self.xp.asarray(array)
        except Exception as e:  # noqa: BLE001
            err = _errors.translate(e, int(array.nbytes), f"cuda:{self.check_index(index)}")
            if err is e:
                raise
            raise err from e

    def to_host(self, array):
        """Copy a device array to a new NumPy array (waits for the kernels that write it)."""
        if self.standin:
            return numpy.array(array, copy=True)
        return self.xp.asnumpy(array)

    def synchronize(self, index: int | None = None) -> None:
        if self.standin:
            self.check_index(index)
            return
        self.xp.cuda.Device(self.check_index(index)).synchronize()

    # --- random numbers -----------------------------------------------------------------------
    def new_generator(self, seed: int | None) -> CupyGenerator:
        if seed is None:
            seed = int.from_bytes(os.urandom(8), "little") >> 1
        return CupyGenerator(self.xp, seed, self.current_device)

    # --- memory (CuPy's memory pool; ``workspace`` keeps the protocol's plain allocation from it) ----
    def _note_peak(self) -> None:
        i = int(self.xp.cuda.runtime.getDevice())
        used = self._pool.used_bytes()
        if used > self._peak.get(i, 0):
            self._peak[i] = used

    def memory_allocated(self, index: int | None = None) -> int:
        """Bytes held by live arrays on the device (CuPy's pool, used blocks)."""
        if self.standin:
            return 0
        with self.device_scope(index):
            return int(self._pool.used_bytes())

    def max_memory_allocated(self, index: int | None = None) -> int:
        if self.standin:
            return 0
        return max(self._peak.get(self.check_index(index), 0), self.memory_allocated(index))

    def reset_peak_memory_stats(self, index: int | None = None) -> None:
        self._peak.pop(self.check_index(index), None)

    def empty_cache(self) -> None:
        """Return the pool's unused blocks to the driver."""
        if not self.standin:
            self._pool.free_all_blocks()
            self.xp.get_default_pinned_memory_pool().free_all_blocks()

    def __repr__(self) -> str:
        return f"<CupyBackend cuda{' (NumPy stand-in)' if self.standin else ''}>"


class _StandInScope:
    """What ``cupy.cuda.Device(i)`` does, for the NumPy stand-in: push/pop the current index."""

    def __init__(self, stack: list[int], index: int) -> None:
        self.stack, self.index = stack, index

    def __enter__(self):
        self.stack.append(self.index)
        return self

    def __exit__(self, *exc) -> bool:
        self.stack.pop()
        return False
