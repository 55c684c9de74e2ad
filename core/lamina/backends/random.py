"""Random number generation: ``lamina.manual_seed``, ``lamina.Generator``, seeded per backend.

Each backend owns a default generator (``backend.new_generator(seed)``); a ``Generator`` object
holds its own state so that seeded code (initialisation, DataLoader shuffling) need not touch
the global one.
"""

from __future__ import annotations

from typing import Any

from . import _device as _backends
from ._protocol import SEED
from ._protocol import entropy as _entropy


def default_impl(backend):
    return backend.default_generator()


def manual_seed(seed: int) -> Generator:
    """Seed the default generator of every backend (present and future). Returns the CPU generator."""
    seed = int(seed)
    SEED[0] = seed
    for backend in list(_backends._backends.values()):
        backend.reseed(seed)
    return default_generator


def seed() -> int:
    """Seed every backend from a fresh random number and return it."""
    s = _entropy()
    manual_seed(s)
    return s


def initial_seed() -> int:
    s = SEED[0]
    return 0 if s is None else s


class Generator:
    """A random generator for one device: ``g = lamina.Generator().manual_seed(0)``."""

    def __init__(self, device: Any = "cpu") -> None:
        self.device = _backends.device(device)
        self._seed = _entropy()
        self._impl = None

    @property
    def impl(self):
        if self._impl is None:
            self._impl = self.device.backend.new_generator(self._seed)
        return self._impl

    def manual_seed(self, seed: int) -> Generator:
        self._seed = int(seed)
        self._impl = self.device.backend.new_generator(self._seed)
        return self

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self):
        import copy

        return copy.deepcopy(self.impl.bit_generator.state)

    def set_state(self, state) -> Generator:
        self.impl.bit_generator.state = state
        return self

    def __repr__(self) -> str:
        return f"<lamina.Generator device={self.device}>"


class _DefaultGenerator(Generator):
    """The CPU default generator: a view onto the backend default, reseeded by manual_seed."""

    def __init__(self) -> None:
        self.device = _backends.device("cpu")

    @property
    def impl(self):
        return default_impl(self.device.backend)

    def manual_seed(self, seed: int) -> Generator:
        return manual_seed(seed)

    def initial_seed(self) -> int:
        return initial_seed()


default_generator = _DefaultGenerator()


def impl_for(generator: Generator | None, dev) -> Any:
    """The backend generator to draw from for device ``dev``."""
    if generator is None:
        return default_impl(dev.backend)
    if generator.device.type != dev.type:
        raise ValueError(f"generator: expected a generator for device {dev}, got one for {generator.device}")
    return generator.impl


def get_rng_state():
    import copy

    return copy.deepcopy(default_generator.impl.bit_generator.state)


def set_rng_state(state) -> None:
    default_generator.impl.bit_generator.state = state
