"""The CPU backend: device type ``cpu``, array namespace ``numpy``, with a pool of scratch arrays and a
pool of threads for kernels."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy
from lamina.backends import Backend

from ._malloc import tune_malloc
from ._pool import ScratchPool
from ._threads import ThreadPool, quiet_numpy, set_blas_threads

__lamina_plugin_api__ = "1.0"


class NumpyBackend(Backend):
    """Runs every op with NumPy on the host; arrays are ``numpy.ndarray``."""

    name = "numpy"
    device_type = "cpu"
    priority = 0
    xp = numpy
    array_type = numpy.ndarray

    def __init__(self) -> None:
        #: the scratch pool behind ``workspace`` (per thread; free arrays up to ``limit`` bytes)
        self.scratch = ScratchPool()
        #: the threads behind ``parallel_for``, as many as ``lamina.set_num_threads`` says
        self.threads = ThreadPool()
        quiet_numpy()  # the thread that first makes a tensor: torch's ops do not warn on inf/NaN
        tune_malloc()  # freed buffers stay in the heap: no page faults for the next step's arrays (see _malloc)

    @classmethod
    def probe(cls) -> tuple[bool, str]:
        return True, ""

    def from_host(self, array, index):
        if index not in (None, 0):
            raise ValueError(f"cpu backend: expected device index None or 0, got {index}")
        return numpy.asarray(array)

    def to_host(self, array):
        return array

    def new_generator(self, seed):
        return numpy.random.Generator(numpy.random.PCG64(seed))

    def workspace(self, shape, dtype, tag: Any = None, *, zeros: bool = False) -> numpy.ndarray:
        """``Backend.workspace`` from the pool: an array of this tag, shape and dtype that nothing references
        any more is handed out again (see ``_pool``)."""
        return self.scratch.take(shape, dtype, tag, zeros)

    def set_num_threads(self, n: int) -> None:
        """``n`` threads for ``parallel_for`` and for BLAS."""
        self.threads.resize(n)
        set_blas_threads(n)

    def parallel_for(self, n: int, fn: Callable[[int, int], Any], grain: int = 1) -> list[Any]:
        """``Backend.parallel_for`` on the pool: the pieces of ``chunks(n, grain)``, whatever the thread count."""
        return self.threads.run(self.chunks(n, grain), fn)
