"""Dtype casts, device moves and clones, each differentiable."""

from __future__ import annotations

from typing import Any

from .._base import dtype as _dtype
from .._tensor import Tensor
from ..autograd.function import Function
from ..backends import device as _device


class Cast(Function):
    """y = x.astype(dtype); gradient cast back to x's dtype by the engine."""

    @staticmethod
    def forward(ctx, x, np_dtype, copy):
        ctx.to_real = x.dtype.kind != "c" and np_dtype.kind == "c"
        if x.dtype.kind == "c" and np_dtype.kind != "c":
            import warnings

            warnings.warn("Casting complex values to real discards the imaginary part", UserWarning, stacklevel=4)
            x = x.real
        if np_dtype.kind == "V" or x.dtype.kind == "V":  # bfloat16 casts overflow to inf quietly, as torch
            with ctx.xp.errstate(over="ignore"):
                return x.astype(np_dtype, copy=copy)
        return x.astype(np_dtype, copy=copy)

    @staticmethod
    def backward(ctx, dy):
        # a real input gets the real part (of dL/dx + i dL/dy, the imaginary part belongs to no input)
        return (dy.real if ctx.to_real else dy), None, None


class Clone(Function):
    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, dy):
        return dy


class ToDevice(Function):
    """Move x to another device (through the host when the backends differ)."""

    @staticmethod
    def forward(ctx, x, src, dst):
        ctx.src, ctx.dst = src, dst
        return _move(x, src, dst)

    @staticmethod
    def backward(ctx, dy):
        return _move(dy, ctx.dst, ctx.src), None, None


def _move(arr, src, dst):
    if src.type == dst.type and src.backend is dst.backend:
        if src.index == dst.index:
            return arr
    return dst.backend.from_host(src.backend.to_host(arr), dst.index)


def _parse_to(args: tuple, kwargs: dict) -> tuple[Any, Any, bool]:
    dev = kwargs.pop("device", None)
    dt = kwargs.pop("dtype", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to: unexpected keyword arguments {sorted(kwargs)}")
    for a in args:
        if isinstance(a, _dtype.dtype):
            dt = a
        elif isinstance(a, Tensor):
            dev, dt = a.device, a.dtype
        elif isinstance(a, (str, _device, int)) and not isinstance(a, bool):
            dev = a
        elif isinstance(a, bool):
            continue
        elif a is None:
            continue
        else:
            try:
                dt = _dtype.from_numpy_dtype(a)
            except TypeError:
                raise TypeError(f"to: expected a device, dtype or tensor argument, got {a!r}") from None
    return dev, dt, copy


def to(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """``to(device)``, ``to(dtype)``, ``to(device, dtype)``, ``to(other)``; returns self when nothing changes."""
    dev, dt, copy = _parse_to(args, kwargs)
    out = self
    if dt is not None:
        npd = _dtype.to_np(dt)
        if npd != out._data.dtype:
            out = Cast.apply(out, npd, True)
            copy = False
    if dev is not None:
        d = _device(dev).concrete()
        if d is not out._device:
            out = ToDevice.apply(out, out._device, d)
            out._device = d
            copy = False
    if copy:
        out = Clone.apply(out)
    return out


def clone(self: Tensor, *, memory_format: Any = None) -> Tensor:
    return Clone.apply(self)


def type_(self: Tensor, dtype: Any = None, non_blocking: bool = False) -> Any:
    if dtype is None:
        return f"lamina.{_TYPE_NAMES.get(self.dtype.name, 'Tensor')}"
    from .legacy import legacy_dtype

    named = legacy_dtype(dtype)  # torch.FloatTensor / 'torch.FloatTensor'
    return to(self, dtype if named is None else named)


_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
               "bfloat16": "BFloat16Tensor",
               "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor", "int8": "CharTensor",
               "uint8": "ByteTensor", "bool": "BoolTensor", "complex64": "ComplexFloatTensor",
               "complex128": "ComplexDoubleTensor"}


def cpu(self: Tensor) -> Tensor:
    return to(self, "cpu")


def cuda(self: Tensor, device: Any = None, non_blocking: bool = False) -> Tensor:
    if device is None:
        device = "cuda"
    elif isinstance(device, int):
        device = f"cuda:{device}"
    return to(self, device)


def _cast(d: Any) -> Any:
    def method(self: Tensor, memory_format: Any = None) -> Tensor:
        return to(self, d)

    method.__name__ = str(d).rpartition(".")[2]
    return method


class ConversionMethods:
    """Moves and casts as ``Tensor`` methods."""

    __slots__ = ()
    to = to
    clone = clone
    cpu = cpu
    cuda = cuda
    type = type_
    float = _cast(_dtype.float32)
    double = _cast(_dtype.float64)
    half = _cast(_dtype.float16)
    bfloat16 = _cast(_dtype.bfloat16)
    long = _cast(_dtype.int64)
    int = _cast(_dtype.int32)
    short = _cast(_dtype.int16)
    bool = _cast(_dtype.bool_)
    byte = _cast(_dtype.uint8)
    char = _cast(_dtype.int8)
    cfloat = _cast(_dtype.complex64)
    cdouble = _cast(_dtype.complex128)
    chalf = _cast(_dtype.complex32)

    def type_as(self: Tensor, other: Tensor) -> Tensor:
        return to(self, other.dtype)
