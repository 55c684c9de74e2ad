"""numba's thread count, kept equal to ``lamina.get_num_threads()`` before each kernel launch."""

from __future__ import annotations

_last: list[int] = [0]


def sync() -> None:
    """Give numba as many threads as lamina uses (at most the number numba started with)."""
    import lamina
    import numba

    n = min(lamina.get_num_threads(), numba.config.NUMBA_NUM_THREADS)
    if n != _last[0]:
        numba.set_num_threads(n)
        _last[0] = n
