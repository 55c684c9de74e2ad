"""The backend protocol (DESIGN.md §4): the class every compute backend subclasses.

A backend owns its array namespace ``xp`` (``numpy``, ``cupy``), host/device moves, its default
random generator and the kernels it registers. Imports nothing of lamina but the base layer.
"""

from __future__ import annotations

import os
from typing import Any

#: the seed of ``lamina.manual_seed`` (None until one is set); new default generators start from it
SEED: list[int | None] = [None]


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
