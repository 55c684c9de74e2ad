"""Process-wide settings and interchange at ``lamina.*`` (torch's top-level switches):
determinism, float32 matmul precision, warn-always, denormals, the legacy default tensor type,
anomaly mode, and DLPack exchange.

What each switch means here:

* ``use_deterministic_algorithms``: every lamina op is deterministic (no kernel uses atomics or
  unordered reductions), so, as in torch for its deterministic ops, the flag changes no result; it is
  kept and reported (``are_deterministic_algorithms_enabled``), and an op that ever has a
  nondeterministic path must consult ``deterministic_mode()`` and raise or warn as torch does.
* ``set_float32_matmul_precision``: validated and reported; lamina's float32 matmuls always run at
  full float32 precision ("highest"), which torch's "high"/"medium" permit as well.
* ``set_flush_denormal``: NumPy cannot set the CPU's flush-to-zero bits, so it returns False, torch's
  answer on a CPU without the capability.
"""

from __future__ import annotations

import builtins
import warnings
from typing import Any

from ._base import dtype as _dtype
from .autograd import grad_mode as _grad_mode
from .ops.tensor import Tensor

_state = {"deterministic": False, "warn_only": False, "matmul_precision": "highest", "warn_always": False}
_PRECISIONS = ("highest", "high", "medium")
_DEBUG_MODES = {"default": 0, "warn": 1, "error": 2}


def use_deterministic_algorithms(mode: builtins.bool, *, warn_only: builtins.bool = False) -> None:
    if not isinstance(mode, builtins.bool):
        raise TypeError(f"use_deterministic_algorithms: expected a bool mode, got {type(mode).__name__}")
    _state["deterministic"], _state["warn_only"] = mode, builtins.bool(warn_only)


def are_deterministic_algorithms_enabled() -> builtins.bool:
    return _state["deterministic"]


def is_deterministic_algorithms_warn_only_enabled() -> builtins.bool:
    return _state["warn_only"]


def set_deterministic_debug_mode(debug_mode: str | int) -> None:
    """0/"default": off; 1/"warn": deterministic with warnings; 2/"error": deterministic, errors."""
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError(f"invalid value of debug_mode, expected one of {list(_DEBUG_MODES)}, "
                               f"but got {debug_mode}")
        debug_mode = _DEBUG_MODES[debug_mode]
    if not isinstance(debug_mode, int) or isinstance(debug_mode, builtins.bool):
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode).__name__}")
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got {debug_mode}")
    use_deterministic_algorithms(debug_mode != 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode() -> int:
    if not _state["deterministic"]:
        return 0
    return 1 if _state["warn_only"] else 2


def deterministic_mode() -> tuple[builtins.bool, builtins.bool]:
    """(enabled, warn_only): for an op with a nondeterministic path (none today)."""
    return _state["deterministic"], _state["warn_only"]


def set_float32_matmul_precision(precision: str) -> None:
    if precision not in _PRECISIONS:
        raise RuntimeError(f"set_float32_matmul_precision: expected one of {list(_PRECISIONS)}, got {precision!r}")
    _state["matmul_precision"] = precision


def get_float32_matmul_precision() -> str:
    return _state["matmul_precision"]


def set_warn_always(b: builtins.bool) -> None:
    _state["warn_always"] = builtins.bool(b)


def is_warn_always_enabled() -> builtins.bool:
    return _state["warn_always"]


def set_flush_denormal(mode: builtins.bool) -> builtins.bool:
    """Whether flushing denormals could be set: never with NumPy (see the module docstring)."""
    return False


def init_num_threads() -> None:
    """torch sets up OpenMP for the calling thread; lamina's pool and BLAS need no per-thread set-up."""


_LEGACY_TYPES = {"torch.FloatTensor": _dtype.float32, "torch.DoubleTensor": _dtype.float64,
                 "torch.HalfTensor": _dtype.float16}


def set_default_tensor_type(t: Any) -> None:
    """Deprecated in torch: set the default floating dtype from a legacy type name."""
    warnings.warn("set_default_tensor_type() is deprecated as of PyTorch 2.1, please use set_default_dtype() "
                  "and set_default_device() as alternatives.", UserWarning, stacklevel=2)
    name = t if isinstance(t, str) else getattr(t, "__module__", "") + "." + getattr(t, "__name__", str(t))
    name = name.replace("lamina.", "torch.")
    if name not in _LEGACY_TYPES:
        raise TypeError(f"set_default_tensor_type: only floating-point CPU types are supported as the default "
                        f"type: {sorted(_LEGACY_TYPES)}, got {t!r}")
    _dtype.set_default_dtype(_LEGACY_TYPES[name])


def set_anomaly_enabled(enabled: builtins.bool, check_nan: builtins.bool = True) -> None:
    _grad_mode.set_detect_anomaly(enabled, check_nan)


def is_storage(obj: object) -> builtins.bool:
    """lamina has no separate storage objects: nothing is one."""
    return False


def to_dlpack(tensor: Tensor) -> Any:
    """A DLPack capsule sharing the tensor's memory."""
    return tensor.detach().array.__dlpack__()


def from_dlpack(ext_tensor: Any) -> Tensor:
    """A tensor sharing the memory of a DLPack-capable object (NumPy/CuPy array, another framework's
    tensor) or of a DLPack capsule."""
    from .ops import creation

    if hasattr(ext_tensor, "__dlpack_device__"):
        device_type, index = ext_tensor.__dlpack_device__()
        if int(device_type) == 2:  # kDLCUDA
            import cupy  # noqa: PLC0415  (only for CUDA exchange)

            return creation.as_tensor(cupy.from_dlpack(ext_tensor), device=f"cuda:{index}")
    import numpy  # noqa: PLC0415

    array = numpy.from_dlpack(ext_tensor) if hasattr(ext_tensor, "__dlpack__") else _from_capsule(ext_tensor)
    return creation.as_tensor(array)


def _from_capsule(capsule: Any) -> Any:
    import numpy  # noqa: PLC0415

    class _Holder:
        def __dlpack__(self, stream: Any = None, **kwargs: Any) -> Any:
            return capsule

        def __dlpack_device__(self) -> tuple[int, int]:
            return (1, 0)

    return numpy.from_dlpack(_Holder())


def get_device_module(device: Any = None) -> Any:
    """The module of a device type: ``lamina.cpu`` or ``lamina.cuda`` (the default device's when None)."""
    import importlib

    from .backends import device as _device
    from .backends import get_default_device

    kind = get_default_device().type if device is None else _device(device).type
    if kind not in ("cpu", "cuda"):
        raise RuntimeError(f"Device '{kind}' does not have a corresponding module registered as 'lamina.{kind}'.")
    return importlib.import_module(f"lamina.{kind}")


def _assert(condition: Any, message: str) -> None:
    """``torch._assert``: ``assert condition, message`` that a tracer would keep (lamina has none: it is the assert)."""
    if not condition:
        raise AssertionError(message)
