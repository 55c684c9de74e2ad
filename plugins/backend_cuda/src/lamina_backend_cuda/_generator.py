"""A ``numpy.random.Generator``-shaped wrapper over CuPy's ``RandomState``.

The core draws with ``random``, ``standard_normal``, ``integers``, ``permutation`` and ``choice``
(NumPy's Generator API). ``cupy.random.Generator`` lacks ``permutation``/``choice``, so the
wrapper adapts ``RandomState`` (cuRAND) instead. Like CuPy's own global state, there is one
stream of numbers per device, all seeded alike (``manual_seed_all``); a draw uses the current
device's stream, so the caller's ``device_scope`` decides where the numbers land.
"""

from __future__ import annotations

from typing import Any

import numpy


class CupyGenerator:
    """Seeded random numbers on one CUDA device, with NumPy Generator method names."""

    def __init__(self, xp: Any, seed: int, current_device: Any) -> None:
        self._xp = xp
        self._seed = int(seed) % (2**32) if xp is numpy else int(seed) % (2**63)
        self._current = current_device
        self._states: dict[int, Any] = {}
        self._takes_dtype = xp is not numpy  # CuPy's RandomState takes dtype=; NumPy's does not

    @property
    def _rs(self) -> Any:
        i = self._current()
        rs = self._states.get(i)
        if rs is None:
            rs = self._states[i] = self._xp.random.RandomState(self._seed)
        return rs

    def _cast(self, a: Any, dtype: Any) -> Any:
        return a if dtype is None or a.dtype == dtype else a.astype(dtype)

    def random(self, size: Any = None, dtype: Any = numpy.float64) -> Any:
        if self._takes_dtype:
            return self._rs.random_sample(size=size, dtype=dtype)
        return self._cast(self._xp.asarray(self._rs.random_sample(size=size)), dtype)

    def standard_normal(self, size: Any = None, dtype: Any = numpy.float64) -> Any:
        if self._takes_dtype:
            return self._rs.standard_normal(size=size, dtype=dtype)
        return self._cast(self._xp.asarray(self._rs.standard_normal(size=size)), dtype)

    def integers(self, low: int, high: int | None = None, size: Any = None, dtype: Any = numpy.int64,
                 endpoint: bool = False) -> Any:
        if high is None:
            low, high = 0, low
        if endpoint:
            high = high + 1
        return self._xp.asarray(self._rs.randint(low, high, size=size, dtype=dtype))

    def permutation(self, x: Any) -> Any:
        return self._rs.permutation(x)

    def choice(self, a: Any, size: Any = None, replace: bool = True, p: Any = None) -> Any:
        return self._rs.choice(a, size=size, replace=replace, p=p)

    def uniform(self, low: float = 0.0, high: float = 1.0, size: Any = None) -> Any:
        return self._rs.uniform(low, high, size=size)

    def normal(self, loc: float = 0.0, scale: float = 1.0, size: Any = None) -> Any:
        return self._rs.normal(loc, scale, size=size)

    @property
    def bit_generator(self) -> Any:
        raise NotImplementedError("lamina.Generator.get_state/set_state: not supported on CUDA (CuPy does not "
                                  "expose cuRAND's state); reseed with manual_seed(seed) instead")
