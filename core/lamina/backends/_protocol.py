"""The backend protocol (DESIGN.md §4): the class every compute backend subclasses.

A backend owns its array namespace ``xp`` (``numpy``, ``cupy``), host/device moves, its default
random generator and the kernels it registers. Imports nothing of lamina but the base layer.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

#: the seed of ``lamina.manual_seed`` (None until one is set); new default generators start from it
SEED: list[int | None] = [None]
#: the count of ``lamina.set_num_threads`` (None until one is set); ``num_threads`` gives the default
THREADS: list[int | None] = [None]
#: ``Backend.chunks`` cuts a range into at most this many pieces
MAX_CHUNKS = 64


_CORES: list[int] = []


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, where the OS has one), read once: ops ask on
    every call, and PyTorch too reads it at start-up."""
    if not _CORES:
        _CORES.append(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    return _CORES[0]


def num_threads(explicit: bool = False) -> int | None:
    """The intra-op thread count: ``set_num_threads``'s, else ``LAMINA_NUM_THREADS``, else
    ``OMP_NUM_THREADS`` (its first entry), else ``usable_cores()``. With ``explicit``, None after
    ``LAMINA_NUM_THREADS``: the count was not asked for, so a backend leaves BLAS to its own variables."""
    if THREADS[0] is not None:
        return THREADS[0]
    for var in ("LAMINA_NUM_THREADS",) if explicit else ("LAMINA_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(var, "").split(",")[0].strip()
        if value:
            if not value.isdigit() or int(value) < 1:
                raise ValueError(f"{var}: expected a positive integer number of threads, got {os.environ[var]!r}")
            return int(value)
    return None if explicit else usable_cores()


def entropy() -> int:
    """A fresh 63-bit seed from the OS."""
    return int.from_bytes(os.urandom(8), "little") >> 1


class Backend:
    """Base class of compute backends. Subclasses are leaves; ``probe`` must be cheap and never raise."""

    name: str = "?"
    device_type: str = "?"
    priority: int = 0
    xp: Any = None
    #: the concrete array class of ``xp`` (results of other types, e.g. NumPy scalars, are wrapped)
    array_type: type = object

    @classmethod
    def probe(cls) -> tuple[bool, str]:
        """(usable, reason when not). Cheap; never raises; imports nothing heavy."""
        return True, ""

    # --- device moves -------------------------------------------------------------------------
    def device_count(self) -> int:
        return 1

    def from_host(self, array, index: int):
        """Copy a NumPy array onto device ``index`` of this backend."""
        return self.xp.asarray(array)

    def to_host(self, array):
        """Copy an array of this backend to a NumPy array."""
        return array

    def device_scope(self, index: int):
        """A context manager that makes ``index`` current while kernels launch (no-op by default)."""
        return _NULL_SCOPE

    def synchronize(self, index: int | None = None) -> None:
        """Wait for queued work on the device (no-op on synchronous backends)."""

    # --- scratch memory -----------------------------------------------------------------------
    def workspace(self, shape: tuple, dtype: Any, tag: Any = None, *, zeros: bool = False):
        """A scratch array for an op's own use (padded inputs, column matrices, saved activations).

        This default allocates: ``xp.zeros`` with ``zeros``, else ``xp.empty``. A backend with a pool
        (the CPU one) may instead hand out an array it made before for the same ``(tag, shape, dtype,
        zeros)`` once nothing references it or a view of it, so saving it for backward or returning it
        is safe. A reused array holds what its last user left: the contents are undefined, except that
        one made with ``zeros`` stays zero wherever the users of its tag write only zeros (a border).
        """
        return (self.xp.zeros if zeros else self.xp.empty)(shape, dtype=dtype)

    # --- random numbers -----------------------------------------------------------------------
    def new_generator(self, seed: int | None):
        """A fresh random generator of this backend, seeded."""
        return self.xp.random.default_rng(seed)

    def default_generator(self) -> Any:
        """This backend's default generator: made on first use from ``manual_seed``'s seed (else entropy)."""
        g = self.__dict__.get("_rng")
        if g is None:
            g = self._rng = self.new_generator(SEED[0] if SEED[0] is not None else entropy())
        return g

    def reseed(self, seed: int) -> None:
        """Replace the default generator by one seeded with ``seed``."""
        self._rng = self.new_generator(seed)

    # --- threads ------------------------------------------------------------------------------
    def set_num_threads(self, n: int) -> None:
        """Run kernels on ``n`` threads (``lamina.set_num_threads``; called on load once a count is set).

        No-op by default; the CPU backend sizes its pool and BLAS with it.
        """

    @staticmethod
    def chunks(n: int, grain: int = 1) -> list[tuple[int, int]]:
        """``range(n)`` cut into contiguous ``(start, stop)`` pieces of ``grain`` items or more (at most
        ``MAX_CHUNKS`` pieces). The cut depends on ``n`` and ``grain`` only, never on the thread count."""
        size = max(grain, -(-n // MAX_CHUNKS), 1)
        return [(start, min(start + size, n)) for start in range(0, n, size)]

    def parallel_for(self, n: int, fn: Callable[[int, int], Any], grain: int = 1) -> list[Any]:
        """``fn(start, stop)`` over pieces covering ``range(n)``; their results in order.

        ``fn`` must touch only its own piece of the output (it may run on any thread, concurrently).
        This default runs ``fn(0, n)`` once on the calling thread; a backend with a pool (the CPU one)
        runs the pieces of ``chunks(n, grain)`` on it, so results do not depend on its thread count.
        """
        return [fn(0, n)] if n > 0 else []

    def register_kernels(self, registry) -> None:
        """Register faster kernels for ops (optional)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.device_type}:{self.name}>"


class _NullScope:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


_NULL_SCOPE = _NullScope()
