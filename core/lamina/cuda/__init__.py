"""``lamina.cuda``: availability and device queries, answered by the CUDA backend plugin if installed."""

from __future__ import annotations

from typing import Any

from .. import backends as _backends


def _backend():
    return _backends.get_backend("cuda")


def is_available() -> bool:
    """True when a usable CUDA backend is installed and a device answers."""
    return _backends.backend_available("cuda")[0]


def unavailable_reason() -> str:
    """Why CUDA is not usable ('' when it is)."""
    return _backends.backend_available("cuda")[1]


def device_count() -> int:
    return _backend().device_count() if is_available() else 0


def current_device() -> int:
    b = _backend()
    return b.current_device() if hasattr(b, "current_device") else 0


def synchronize(device=None) -> None:
    idx = None if device is None else _backends.device(device).index
    _backend().synchronize(idx)


def manual_seed(seed: int) -> None:
    if is_available():
        _backend().reseed(int(seed))


manual_seed_all = manual_seed


def set_device(device: Any) -> None:
    idx = device if isinstance(device, int) else _backends.device(device).index
    if not is_available():
        raise RuntimeError(f"lamina.cuda.set_device({device!r}): CUDA is not available ({unavailable_reason()})")
    b = _backend()
    if hasattr(b, "set_device"):
        b.set_device(0 if idx is None else idx)


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """bfloat16 tensors work on any usable CUDA device (arithmetic through ml_dtypes' storage, as on the CPU)."""
    return is_available()


def get_device_name(device: Any = None) -> str:
    if not is_available():
        raise RuntimeError(f"lamina.cuda.get_device_name: CUDA is not available ({unavailable_reason()})")
    b = _backend()
    return str(b.device_name(device)) if hasattr(b, "device_name") else "CUDA device"


def _memory(name: str, device=None) -> int:
    if not is_available():
        return 0
    fn = getattr(_backend(), name, None)
    return int(fn(None if device is None else _backends.device(device).index)) if fn else 0


def memory_allocated(device=None) -> int:
    return _memory("memory_allocated", device)


def max_memory_allocated(device=None) -> int:
    return _memory("max_memory_allocated", device)


def empty_cache() -> None:
    if is_available() and hasattr(_backend(), "empty_cache"):
        _backend().empty_cache()


def __getattr__(name: str) -> Any:
    if name == "amp":  # lamina.cuda.amp: the deprecated device-bound autocast, loaded on first use
        import importlib

        return importlib.import_module(f"{__name__}.amp")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
