"""The CPU backend: device type ``cpu``, array namespace ``numpy``."""

from __future__ import annotations

import numpy
from lamina.backends import Backend

__lamina_plugin_api__ = "1.0"


class NumpyBackend(Backend):
    """Runs every op with NumPy on the host; arrays are ``numpy.ndarray``."""

    name = "numpy"
    device_type = "cpu"
    priority = 0
    xp = numpy
    array_type = numpy.ndarray

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
