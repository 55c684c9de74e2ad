"""Thread counts: ``lamina.set_num_threads`` / ``get_num_threads`` and the inter-op pair, as in PyTorch.

The intra-op count reaches every loaded backend through ``Backend.set_num_threads`` (and a backend
loaded later, once a count is set); the CPU backend sizes its kernel pool and BLAS with it. The
default is ``LAMINA_NUM_THREADS``, else ``OMP_NUM_THREADS``, else the cores this process may use.
"""

from __future__ import annotations

import operator

from . import _device as _backends
from ._protocol import THREADS, num_threads, usable_cores

_INTEROP: list[int | None] = [None]


def _count(name: str, n: int) -> int:
    if isinstance(n, bool) or not hasattr(n, "__index__"):
        raise RuntimeError(f"{name} expects an int, but got {type(n).__name__}")
    n = operator.index(n)
    if n < 1:
        raise RuntimeError(f"{name} expects a positive integer, got {n}")
    return n


def set_num_threads(n: int) -> None:
    """Run intra-op work (lamina's CPU kernel pool and BLAS) on ``n`` threads, in every backend."""
    n = _count("set_num_threads", n)
    with _backends._lock:
        THREADS[0] = n
        for backend in list(_backends._backends.values()):
            backend.set_num_threads(n)


def get_num_threads() -> int:
    """The intra-op thread count: ``set_num_threads``'s, else the default from the environment."""
    return num_threads()  # type: ignore[return-value]


def set_num_interop_threads(n: int) -> None:
    """Record the inter-op thread count (once, as in PyTorch: a second call raises RuntimeError).

    lamina runs no inter-op pool (ops run one after another on the calling thread); the count is only
    reported by ``get_num_interop_threads``, for code written against PyTorch.
    """
    n = _count("set_num_interop_threads", n)
    if _INTEROP[0] is not None:
        raise RuntimeError("Error: cannot set number of interop threads after parallel work has started "
                           "or set_num_interop_threads called")
    _INTEROP[0] = n


def get_num_interop_threads() -> int:
    """The inter-op thread count: ``set_num_interop_threads``'s, else the usable cores (PyTorch's default)."""
    return _INTEROP[0] or usable_cores()
