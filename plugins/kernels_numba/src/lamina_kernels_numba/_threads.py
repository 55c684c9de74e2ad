"""numba's thread count, kept equal to ``lamina.get_num_threads()`` before each kernel launch."""

from __future__ import annotations

import os

_last: list[int] = [0]


def prepare() -> None:
    """Before numba is imported: start its thread pool with lamina's count, not the core count.

    numba's OpenMP layer sets the process's OpenMP team size to ``NUMBA_NUM_THREADS`` when it starts,
    which would also change what other OpenMP users in the process run on (PyTorch, in a benchmark
    that runs both; seen: a 1-thread PyTorch step ran on 2 threads). A ``NUMBA_NUM_THREADS`` the user
    set is kept; it is also the most threads the kernels can use later.
    """
    import lamina

    os.environ.setdefault("NUMBA_NUM_THREADS", str(lamina.get_num_threads()))


def sync() -> None:
    """Give numba as many threads as lamina uses (at most the number numba started with)."""
    import lamina
    import numba

    n = min(lamina.get_num_threads(), numba.config.NUMBA_NUM_THREADS)
    if n != _last[0]:
        numba.set_num_threads(n)
        _last[0] = n
