"""``lamina.autocast``: a context manager and decorator that runs declared ops in lower precision.

The state it switches and the ops' cast policies live in ``lamina.autograd.autocast_state``.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

from .._base import dtype as _dtype
from ..autograd import autocast_state as _ac

#: the dtypes autocast can run lower-precision ops in, per device type lamina runs
_SUPPORTED = {"cpu": (_dtype.bfloat16, _dtype.float16), "cuda": (_dtype.float16, _dtype.bfloat16)}


def is_autocast_available(device_type: str) -> bool:
    """Whether autocast can be used on ``device_type`` (cpu and cuda; cuda even without a GPU, as torch)."""
    return _ac.device_type_of(device_type) in _SUPPORTED


class autocast:  # noqa: N801  (torch.autocast)
    """Run ops declared ``lower_precision_fp`` (matmul, linear, conv, ...) in ``dtype`` and ``fp32`` ops
    (losses, ...) in float32 inside a ``with`` block or a decorated function; regions nest.

    ``dtype`` None takes ``lamina.get_autocast_dtype(device_type)`` (cpu: bfloat16, cuda: float16);
    ``cache_enabled`` None takes ``lamina.is_autocast_cache_enabled()``.
    """

    def __init__(self, device_type: str, dtype: _dtype.dtype | None = None, enabled: bool = True,
                 cache_enabled: bool | None = None) -> None:
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        self.device = _ac.device_type_of(device_type)
        if self.device not in _SUPPORTED:
            raise RuntimeError(f"User specified an unsupported autocast device_type '{self.device}'")
        self.fast_dtype = _ac.get_autocast_dtype(self.device) if dtype is None else dtype
        self._cache_enabled = _ac.is_autocast_cache_enabled() if cache_enabled is None else cache_enabled
        if enabled and self.device == "cuda":
            from .. import cuda

            if not cuda.is_available():
                warnings.warn("CUDA is not available. Disabling autocast.", UserWarning, stacklevel=2)
                enabled = False
        if enabled and self.fast_dtype not in _SUPPORTED[self.device]:
            names = ", ".join(str(d) for d in _SUPPORTED[self.device])
            kind = self.device.upper()
            warnings.warn(f"In {kind} autocast, but the target dtype is not supported. Disabling autocast.\n"
                          f"{kind} Autocast only supports dtypes of {names} currently.", UserWarning, stacklevel=2)
            enabled = False
        self._enabled = bool(enabled)

    def __enter__(self) -> autocast:
        self._prev = (_ac.is_autocast_enabled(self.device), _ac.get_autocast_dtype(self.device),
                      _ac.is_autocast_cache_enabled())
        _ac.set_autocast_enabled(self.device, self._enabled)
        _ac.set_autocast_dtype(self.device, self.fast_dtype)
        _ac.set_autocast_cache_enabled(bool(self._cache_enabled))
        _ac.autocast_increment_nesting()
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        if _ac.autocast_decrement_nesting() == 0:
            _ac.clear_autocast_cache()
        enabled, dtype, cache = self._prev
        _ac.set_autocast_enabled(self.device, enabled)
        _ac.set_autocast_dtype(self.device, dtype)
        _ac.set_autocast_cache_enabled(cache)
        return False

    def __call__(self, func: Callable) -> Callable:
        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            region = object.__new__(type(self))  # a fresh region per call: recursion and threads nest
            region.__dict__.update({k: v for k, v in self.__dict__.items() if k != "_prev"})
            with region:
                return func(*args, **kwargs)

        return run


class _DeprecatedAutocast(autocast):
    """``lamina.cpu.amp.autocast`` / ``lamina.cuda.amp.autocast``: the device-bound forms torch deprecates."""

    _device_type = "cpu"
    _default_dtype = _dtype.bfloat16

    def __init__(self, enabled: bool = True, dtype: _dtype.dtype | None = None, cache_enabled: bool = True) -> None:
        warnings.warn(f"`lamina.{self._device_type}.amp.autocast(args...)` is deprecated. Please use "
                      f"`lamina.amp.autocast('{self._device_type}', args...)` instead.", FutureWarning, stacklevel=2)
        super().__init__(self._device_type, dtype=self._default_dtype if dtype is None else dtype, enabled=enabled,
                         cache_enabled=cache_enabled)


class cpu_autocast(_DeprecatedAutocast):  # noqa: N801
    """``lamina.cpu.amp.autocast(enabled=True, dtype=lamina.bfloat16, cache_enabled=True)`` (deprecated)."""

    _device_type, _default_dtype = "cpu", _dtype.bfloat16


class cuda_autocast(_DeprecatedAutocast):  # noqa: N801
    """``lamina.cuda.amp.autocast(enabled=True, dtype=lamina.float16, cache_enabled=True)`` (deprecated)."""

    _device_type, _default_dtype = "cuda", _dtype.float16


def _cast_arrays(value: Any, np_dtype: Any) -> Any:
    """Floating arrays other than float64 in ``value`` (and in lists/tuples of it) cast to ``np_dtype``."""
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_arrays(v, np_dtype) for v in value)
    kind = getattr(getattr(value, "dtype", None), "kind", None)
    if kind in ("f", "V") and value.dtype.itemsize != 8 and value.dtype != np_dtype:
        return value.astype(np_dtype)
    return value


def custom_fwd(fwd: Callable | None = None, *, device_type: str, cast_inputs: _dtype.dtype | None = None) -> Any:
    """Decorate a custom ``Function.forward``: with ``cast_inputs``, inside an autocast region its floating
    inputs are cast to that dtype and it runs with autocast off; without, it records autocast's state for
    :func:`custom_bwd`. (lamina's forward receives arrays: they are cast, and gradients return in each
    input's own dtype.)"""
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)
    kind = _ac.device_type_of(device_type)

    @functools.wraps(fwd)
    def forward(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        ctx._dtype = _ac.get_autocast_dtype(kind)
        if cast_inputs is None:
            ctx._fwd_used_autocast = _ac.is_autocast_enabled(kind)
            return fwd(ctx, *args, **kwargs)
        autocast_on = _ac.is_autocast_enabled(kind)
        ctx._fwd_used_autocast = False
        if not autocast_on:
            return fwd(ctx, *args, **kwargs)
        np_dtype = _dtype.to_np(cast_inputs)
        with autocast(kind, enabled=False):
            return fwd(ctx, *_cast_arrays(args, np_dtype), **{k: _cast_arrays(v, np_dtype) for k, v in kwargs.items()})

    return forward


def custom_bwd(bwd: Callable | None = None, *, device_type: str) -> Any:
    """Decorate a custom ``Function.backward``: it runs with the autocast state its forward ran with."""
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)
    kind = _ac.device_type_of(device_type)

    @functools.wraps(bwd)
    def backward(ctx: Any, *grads: Any) -> Any:
        with autocast(kind, enabled=getattr(ctx, "_fwd_used_autocast", False), dtype=getattr(ctx, "_dtype", None)):
            return bwd(ctx, *grads)

    return backward
