"""The test-only stand-in: the CUDA backend class with NumPy playing CuPy, registered in-process
for device type ``cuda`` so the whole device path runs without a GPU."""

from __future__ import annotations

import contextlib

import lamina
import numpy
from lamina_backend_cuda.backend import CupyBackend


class StandInBackend(CupyBackend):
    """CupyBackend in stand-in mode with two fake devices (cuda:0, cuda:1)."""

    name = "standin"
    priority = 1000

    @classmethod
    def probe(cls) -> tuple[bool, str]:
        return True, ""

    def __init__(self) -> None:
        super().__init__(xp=numpy, device_count=2)


@contextlib.contextmanager
def standin_cuda():
    """Serve device type ``cuda`` with the stand-in for the duration of the block."""
    lamina.plugins.register("lamina.backends.cuda", "standin", StandInBackend, replace=True)
    lamina.set_backend("cuda", "standin")
    try:
        yield lamina.device("cuda").backend
    finally:
        lamina.set_backend("cuda", None)
        lamina.plugins.unregister("lamina.backends.cuda", "standin")
