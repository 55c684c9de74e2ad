"""``torch.accelerator``: the current accelerator (a non-CPU device type with a usable backend), if any.

Answered by the installed backends: with lamina-backend-cuda and a GPU it is ``device("cuda")``; on a
machine with only the CPU backend there is none (``current_accelerator()`` is None, ``is_available()``
False, ``device_count()`` 0), as in torch's CPU build.
"""

from __future__ import annotations

from typing import Any

from . import backends as _backends

__all__ = ["current_accelerator", "current_device_index", "device_count", "is_available", "set_device_index",
           "synchronize", "empty_cache", "memory_allocated", "max_memory_allocated"]

_KNOWN = ("cuda",)  # accelerator device types lamina has backends for, in torch's order of preference


def current_accelerator(check_available: bool = False) -> Any:
    """The accelerator's device (index-less), or None when no accelerator backend is usable."""
    for kind in _KNOWN:
        if _backends.backend_available(kind)[0]:
            return _backends.device(kind)
    return None


def is_available() -> bool:
    return current_accelerator() is not None


def _cuda() -> Any:
    from . import cuda

    return cuda


def device_count() -> int:
    return _cuda().device_count() if is_available() else 0


def current_device_index() -> int:
    return _cuda().current_device() if is_available() else -1


current_device_idx = current_device_index


def set_device_index(device: Any) -> None:
    if not is_available():
        raise RuntimeError("lamina.accelerator.set_device_index: no accelerator is available (only the CPU backend "
                           "is installed or usable)")
    _cuda().set_device(device)


set_device_idx = set_device_index


def synchronize(device: Any = None) -> None:
    if is_available():
        _cuda().synchronize(device)


def empty_cache() -> None:
    if is_available():
        _cuda().empty_cache()


def memory_allocated(device: Any = None) -> int:
    return _cuda().memory_allocated(device) if is_available() else 0


def max_memory_allocated(device: Any = None) -> int:
    return _cuda().max_memory_allocated(device) if is_available() else 0
