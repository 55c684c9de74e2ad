"""``lamina.nn.parallel``: ``DistributedDataParallel`` (one process per replica, gradients all-reduced in backward)
and ``DataParallel`` on one device.

torch's other single-process multi-device helpers (``replicate``, ``scatter``, ...) are not provided: lamina
runs one process per device.
"""

from __future__ import annotations

from typing import Any

from .ddp import DistributedDataParallel
from .dp import DataParallel, data_parallel

__all__ = ["DataParallel", "DistributedDataParallel", "data_parallel"]

_SINGLE_PROCESS = {"replicate", "scatter", "gather", "parallel_apply",
                   "scatter_kwargs"}


def __getattr__(name: str) -> Any:
    if name in _SINGLE_PROCESS:
        raise AttributeError(f"lamina.nn.parallel.{name} is not provided (torch's single-process multi-device "
                             "data parallelism); use lamina.nn.parallel.DistributedDataParallel, one process per "
                             "device")
    raise AttributeError(f"module 'lamina.nn.parallel' has no attribute {name!r}")
