"""Autocast state and the one hook ops use to take part in it (``lamina.autocast`` is built on this).

Per device type, autocast is on or off and has a lower-precision dtype (cpu: bfloat16, cuda: float16).
An op opts in by declaring its cast policy with :func:`autocast_op`; core ops and plugins' functions
use the same decorator (plugins reach it as ``lamina.amp.autocast_op``)::

    @autocast_op("lower_precision_fp")     # matmul, linear, conv*: run in the autocast dtype
    @autocast_op("fp32")                   # losses, prod, cdist, ...: run in float32
    @autocast_op("promote")                # cat, stack, index_copy: run in the widest floating dtype

Only floating tensors other than float64 on a device type with autocast on are cast (torch's rule), in
positional and keyword arguments and in lists/tuples of tensors. While a declared op runs, autocast is
suspended, so the ops it is made of run as they are given (torch's dispatcher excludes autocast
below the first op). With autocast off the decorator costs one flag test.
"""

from __future__ import annotations

import functools
import threading
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from .._base import dtype as _dtype
from .._tensor import Tensor

POLICIES = ("lower_precision_fp", "fp32", "promote")

#: torch's device types (an autocast state exists for each; lamina runs cpu and cuda)
DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia",
                "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")


class _State(threading.local):
    """Per thread, as torch's autocast state (a thread starts with autocast off and the default dtypes)."""

    def __init__(self) -> None:
        self.enabled: dict[str, bool] = dict.fromkeys(DEVICE_TYPES, False)
        self.dtype: dict[str, _dtype.dtype] = dict.fromkeys(DEVICE_TYPES, _dtype.float16)
        self.dtype["cpu"] = self.dtype["mps"] = _dtype.bfloat16
        self.active = False            # some device type has autocast on, and no declared op is running
        self.cache_enabled = True
        self.cache: dict[int, tuple[Tensor, Tensor]] = {}  # id(leaf weight) -> (weight, its cast copy)
        self.nesting = 0

    def refresh(self) -> None:
        self.active = any(self.enabled.values())


state = _State()

F = TypeVar("F", bound=Callable[..., Any])


def device_type_of(device_type: Any, what: str = "device_type") -> str:
    """``"cuda:1"`` -> ``"cuda"``; a non-string raises TypeError, an unknown type RuntimeError (as torch)."""
    if not isinstance(device_type, str):
        raise TypeError(f"{what} must be str, not {type(device_type).__name__}")
    kind = device_type.partition(":")[0]
    if kind not in DEVICE_TYPES:
        raise RuntimeError(f"Expected one of {', '.join(DEVICE_TYPES)} device type at start of device string: "
                           f"{device_type}")
    return kind


def _check_bool(value: Any, fn: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{fn}(): argument 'enabled' must be bool, not {type(value).__name__}")
    return value


def _deprecated(old: str, new: str) -> None:
    warnings.warn(f"lamina.{old} is deprecated. Please use lamina.{new} instead.", DeprecationWarning, stacklevel=3)


# --- the flags (torch's names; the per-device forms are current, cpu/gpu-named ones deprecated) --------
def is_autocast_enabled(device_type: str | None = None) -> bool:
    """Whether autocast is on for ``device_type`` (None: cuda, as torch)."""
    return state.enabled[device_type_of("cuda" if device_type is None else device_type)]


def set_autocast_enabled(*args: Any) -> None:
    """``set_autocast_enabled(device_type, enabled)`` (or ``set_autocast_enabled(enabled)`` for cuda)."""
    device_type, enabled = ("cuda", *args) if len(args) == 1 else args
    state.enabled[device_type_of(device_type)] = _check_bool(enabled, "set_autocast_enabled")
    state.refresh()


def is_autocast_cpu_enabled() -> bool:
    _deprecated("is_autocast_cpu_enabled()", "is_autocast_enabled('cpu')")
    return state.enabled["cpu"]


def set_autocast_cpu_enabled(enabled: bool) -> None:
    _deprecated("set_autocast_cpu_enabled(enabled)", "set_autocast_enabled('cpu', enabled)")
    set_autocast_enabled("cpu", enabled)


def get_autocast_dtype(device_type: str) -> _dtype.dtype:
    """The dtype lower-precision ops run in under autocast on ``device_type``."""
    return state.dtype[device_type_of(device_type)]


def set_autocast_dtype(device_type: str, dtype: _dtype.dtype) -> None:
    if not isinstance(dtype, _dtype.dtype):
        raise TypeError(f"set_autocast_dtype(): argument 'dtype' must be lamina.dtype, not {type(dtype).__name__}")
    state.dtype[device_type_of(device_type)] = dtype


def get_autocast_cpu_dtype() -> _dtype.dtype:
    _deprecated("get_autocast_cpu_dtype()", "get_autocast_dtype('cpu')")
    return state.dtype["cpu"]


def get_autocast_gpu_dtype() -> _dtype.dtype:
    _deprecated("get_autocast_gpu_dtype()", "get_autocast_dtype('cuda')")
    return state.dtype["cuda"]


def set_autocast_cpu_dtype(dtype: _dtype.dtype) -> None:
    _deprecated("set_autocast_cpu_dtype(dtype)", "set_autocast_dtype('cpu', dtype)")
    set_autocast_dtype("cpu", dtype)


def set_autocast_gpu_dtype(dtype: _dtype.dtype) -> None:
    _deprecated("set_autocast_gpu_dtype(dtype)", "set_autocast_dtype('cuda', dtype)")
    set_autocast_dtype("cuda", dtype)


def is_autocast_cache_enabled() -> bool:
    return state.cache_enabled


def set_autocast_cache_enabled(enabled: bool) -> None:
    state.cache_enabled = _check_bool(enabled, "set_autocast_cache_enabled")


def clear_autocast_cache() -> None:
    """Drop the cast copies of weights kept while autocast is on (done when the outermost region exits)."""
    state.cache.clear()


def autocast_increment_nesting() -> int:
    state.nesting += 1
    return state.nesting


def autocast_decrement_nesting() -> int:
    state.nesting -= 1
    return state.nesting


# --- the hook ------------------------------------------------------------------------------------
def _eligible(t: Any) -> bool:
    return isinstance(t, Tensor) and state.enabled.get(t._device.type, False) and t.is_floating_point() \
        and t._data.dtype.kind != "c" and t.dtype is not _dtype.float64


def _cast(t: Any, to: _dtype.dtype, cacheable: bool) -> Any:
    if not _eligible(t) or t.dtype is to:
        return t
    if cacheable and state.cache_enabled and t._node is None and t.requires_grad and t.dtype is _dtype.float32:
        hit = state.cache.get(id(t))
        if hit is not None and hit[0] is t:
            return hit[1]
        out = t.to(to)
        state.cache[id(t)] = (t, out)
        return out
    return t.to(to)


def _each(value: Any, fn: Callable[[Any], Any]) -> Any:
    if isinstance(value, (list, tuple)) and any(isinstance(v, Tensor) for v in value):
        return type(value)(fn(v) for v in value)
    return fn(value)


def _promote_type(args: tuple, kwargs: dict) -> _dtype.dtype | None:
    """torch's autocast prioritize: start from the autocast dtype; float64 tensors are left out (they stay
    float64), float32 beats the 16-bit type, and a second, different 16-bit type is an error."""
    current = None
    for value in (*args, *kwargs.values()):
        for t in (value if isinstance(value, (list, tuple)) else (value,)):
            if not isinstance(t, Tensor) or not state.enabled.get(t._device.type, False) \
                    or not t.is_floating_point():
                continue
            low = state.dtype[t._device.type]
            current = current or low
            nxt = t.dtype
            if nxt is _dtype.float64:
                continue
            if current is _dtype.float32 or nxt is _dtype.float32:
                current = _dtype.float32
            elif not (current is low and nxt is low):
                raise RuntimeError("Unexpected floating ScalarType in at::autocast::prioritize")
    return current


def cast_inputs(policy: str, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """The arguments of an op declared with ``policy``, cast as autocast requires (autocast is on)."""
    if policy == "promote":
        to = _promote_type(args, kwargs)
        if to is None:
            return args, kwargs
        cacheable = False
    elif policy == "fp32":
        to, cacheable = _dtype.float32, False
    else:
        to, cacheable = None, True

    def one(t: Any) -> Any:
        if not isinstance(t, Tensor):
            return t
        return _cast(t, to or state.dtype[t._device.type], cacheable)

    return tuple(_each(a, one) for a in args), {k: _each(v, one) for k, v in kwargs.items()}


def autocast_op(policy: str) -> Callable[[F], F]:
    """Declare how an op behaves under autocast: ``"lower_precision_fp"``, ``"fp32"`` or ``"promote"``."""
    if policy not in POLICIES:
        raise ValueError(f"autocast_op: policy must be one of {POLICIES}, got {policy!r}")

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def op(*args: Any, **kwargs: Any) -> Any:
            if not state.active:
                return fn(*args, **kwargs)
            args, kwargs = cast_inputs(policy, args, kwargs)
            state.active = False  # the ops it is made of run as given
            try:
                return fn(*args, **kwargs)
            finally:
                state.active = True

        op.__autocast_policy__ = policy  # type: ignore[attr-defined]
        return op  # type: ignore[return-value]

    return decorate
